// Tagger (N -> N): the padded bidirectional window with per-sequence lengths against finite
// differences (double, every parameter), padding that cannot reach the scored outputs, each
// sequence of a batch scored exactly as alone, a task that needs the reverse direction, the
// restoration scores, and the model file round trip.
#include <gtest/gtest.h>

#include <cmath>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/io/safetensors.h"
#include "recur/models/tagger_model.h"
#include "recur/train/optimizer.h"
#include "scratch_dir.h"

namespace recur {
namespace {

SequenceModelConfig tagger_config(CellKind cell, int layers, bool bidir, int64_t vocab,
                                  int64_t tags, int64_t hidden, int64_t embed = 3) {
  SequenceModelConfig c;
  c.vocab = vocab;
  c.outputs = tags;
  c.embed = embed;
  c.rnn.cell = cell;
  c.rnn.input_size = embed;
  c.rnn.hidden_size = hidden;
  c.rnn.num_layers = layers;
  c.rnn.bidirectional = bidir;
  return c;
}

// Three sequences of lengths 5, 3 and 1 in a (5,3) batch; the padding holds random ids.
TaggerBatch ragged_batch(Rng& rng, int64_t vocab, int64_t tags) {
  TaggerBatch b;
  b.steps = 5;
  b.batch = 3;
  b.lengths = {5, 3, 1};
  b.tokens.resize(15);
  b.targets.assign(15, -1);
  for (auto& t : b.tokens) t = int64_t(rng.below(uint64_t(vocab)));
  for (int64_t s = 0; s < 3; ++s)
    for (int64_t t = 0; t < b.lengths[size_t(s)]; ++t)
      b.targets[size_t(t * 3 + s)] = int64_t(rng.below(uint64_t(tags)));
  return b;
}

TEST(Tagger, PaddedBidirectionalGradientsMatchFiniteDifferences) {
  for (CellKind cell : {CellKind::lstm, CellKind::gru}) {
    SequenceModel<double> m(tagger_config(cell, 2, true, 7, 4, 3));
    Rng rng(21);
    init_sequence_model(m, rng);
    for (auto& [n, t] :
         m.named())  // larger weights: the nonlinearities away from their linear part
      for (auto& v : t->data) v *= 2.0;
    const TaggerBatch b = ragged_batch(rng, 7, 4);
    SequenceModel<double> g(m.config);
    tagger_batch(m, &g, b, {});
    auto loss = [&] { return tagger_batch<double>(m, nullptr, b, {}); };
    auto pn = m.named();
    auto gn = g.named();
    for (size_t i = 0; i < pn.size(); ++i)
      testing::expect_grad_matches(std::string(cell_name(cell)) + "." + pn[i].first, *pn[i].second,
                                   *gn[i].second, loss);
  }
}

// Whatever sits in the padding leaves every scored logit, the loss and the gradients unchanged,
// and each sequence scores in the batch exactly as it does alone (so the reverse direction starts
// at its own last token, not at the end of the batch).
TEST(Tagger, PaddingCannotReachTheScoredOutputs) {
  SequenceModel<double> m(tagger_config(CellKind::lstm, 2, true, 7, 4, 3));
  Rng rng(8);
  init_sequence_model(m, rng);
  TaggerBatch b = ragged_batch(rng, 7, 4);
  Tensor<double> a, c;
  SequenceModel<double> ga(m.config), gc(m.config);
  const double la = tagger_batch(m, &ga, b, {}, &a);
  for (int64_t s = 0; s < b.batch; ++s)
    for (int64_t t = b.lengths[size_t(s)]; t < b.steps; ++t)
      b.tokens[size_t(t * b.batch + s)] = (b.tokens[size_t(t * b.batch + s)] + 3) % 7;
  const double lc = tagger_batch(m, &gc, b, {}, &c);
  EXPECT_EQ(la, lc);
  const int64_t C = 4;
  for (int64_t s = 0; s < b.batch; ++s)
    for (int64_t t = 0; t < b.lengths[size_t(s)]; ++t)
      for (int64_t k = 0; k < C; ++k)
        EXPECT_EQ(a[(t * b.batch + s) * C + k], c[(t * b.batch + s) * C + k]) << s << "," << t;
  auto pa = ga.named();
  auto pc = gc.named();
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_EQ(pa[i].second->data, pc[i].second->data) << pa[i].first;

  for (int64_t s = 0; s < b.batch; ++s) {
    TaggerBatch one;
    one.steps = b.lengths[size_t(s)];
    one.batch = 1;
    one.lengths = {one.steps};
    for (int64_t t = 0; t < one.steps; ++t) {
      one.tokens.push_back(b.tokens[size_t(t * b.batch + s)]);
      one.targets.push_back(b.targets[size_t(t * b.batch + s)]);
    }
    Tensor<double> alone;
    tagger_batch<double>(m, nullptr, one, {}, &alone);
    for (int64_t t = 0; t < one.steps; ++t)
      for (int64_t k = 0; k < C; ++k)
        EXPECT_NEAR(alone[t * C + k], a[(t * b.batch + s) * C + k], 1e-12) << s << "," << t;
  }
}

TEST(Tagger, ScoredPaddingAndBadLengthsAreRefused) {
  SequenceModel<double> m(tagger_config(CellKind::gru, 1, true, 7, 4, 3));
  Rng rng(2);
  TaggerBatch b = ragged_batch(rng, 7, 4);
  b.targets[size_t(4 * 3 + 1)] = 0;  // step 4 of the length-3 sequence
  EXPECT_RECUR_ERROR(tagger_batch<double>(m, nullptr, b, {}), "sequence 1 has length 3",
                     "padding targets must be -1");
  b = ragged_batch(rng, 7, 4);
  b.lengths = {5, 6, 1};
  EXPECT_RECUR_ERROR(tagger_batch<double>(m, nullptr, b, {}), "lengths[1] = 6");
  b.lengths = {5, 3};
  EXPECT_RECUR_ERROR(tagger_batch<double>(m, nullptr, b, {}), "2 lengths");
}

// Tag 1 when the next token is the symbol 0, else 0: a forward RNN cannot know the next token, so a
// unidirectional tagger stays near the entropy of the tag (about 0.45 nats here); the reverse
// direction of a bidirectional one reads it, and must get below 0.05 nats in 300 Adam steps
// (it typically reaches ~0.005).
TEST(Tagger, BidirectionalLstmLearnsANextTokenTagThatNeedsTheReverseDirection) {
  auto train = [](bool bidir) {
    SequenceModel<float> m(tagger_config(CellKind::lstm, 1, bidir, 5, 2, 16, 8)), g(m.config);
    Rng rng(5);
    init_sequence_model(m, rng);
    OptimizerConfig oc;
    oc.kind = OptimizerKind::kAdam;
    oc.lr = 1e-2;
    Optimizer<float> opt(oc);
    auto params = param_list(m, g);
    double recent = 0;
    for (int step = 0; step < 300; ++step) {
      std::vector<TagExample> ex(16);
      for (TagExample& e : ex) {
        const int64_t len = 2 + int64_t(rng.below(11));
        for (int64_t t = 0; t < len; ++t) e.tokens.push_back(int64_t(rng.below(5)));
        for (int64_t t = 0; t < len; ++t)
          e.tags.push_back(t + 1 < len && e.tokens[size_t(t + 1)] == 0);
      }
      std::vector<size_t> idx(ex.size());
      for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      zero_grads(params);
      const float loss = tagger_batch(m, &g, make_tagger_batch(ex, idx), {});
      opt.step(params);
      if (step >= 280) recent += loss / 20.0;
    }
    return recent;
  };
  EXPECT_LT(train(true), 0.05);
  EXPECT_GT(train(false), 0.3);
}

TEST(Tagger, RestorationScoresCountEachDecision) {
  RestorationScores s;
  const RestorationTag lower{}, cap{Casing::cap, Punct::none},
      lower_comma{Casing::lower, Punct::comma}, lower_period{Casing::lower, Punct::period},
      upper{Casing::upper, Punct::none};
  s.add(lower, lower, 5);              // right
  s.add(lower_comma, lower_comma, 2);  // right mark
  s.add(lower_comma, lower_period);    // a mark, the wrong one
  s.add(lower_period, lower);          // missed mark
  s.add(lower, lower_comma);           // invented mark
  s.add(cap, upper);                   // capitalised either way
  s.add(lower, cap);                   // wrong capital
  EXPECT_EQ(s.tokens, 12);
  EXPECT_EQ(s.correct, 7);
  EXPECT_EQ(s.punct_present.tp, 3);
  EXPECT_EQ(s.punct_present.fp, 1);
  EXPECT_EQ(s.punct_present.fn, 1);
  EXPECT_EQ(s.punct_mark.tp, 2);
  EXPECT_EQ(s.punct_mark.fp, 2);  // the wrong mark and the invented one
  EXPECT_EQ(s.punct_mark.fn, 2);  // the wrong mark and the missed one
  EXPECT_EQ(s.capitalised.tp, 1);
  EXPECT_EQ(s.capitalised.fp, 1);
  EXPECT_EQ(s.capitalised.fn, 0);
  EXPECT_DOUBLE_EQ(s.punct_present.f1(), 0.75);
  EXPECT_EQ(s.per_punct[size_t(Punct::comma)].tp, 2);
  EXPECT_EQ(s.per_punct[size_t(Punct::comma)].fp, 1);
  EXPECT_EQ(s.per_punct[size_t(Punct::comma)].fn, 1);
  EXPECT_EQ(s.per_casing[size_t(Casing::upper)].fp, 1);
}

class TaggerFileTest : public testing::ScratchDirTest {};

// Save, load, evaluate: the loaded model predicts what the trained one did, and the evaluation
// counts agree with predict_tags; the report names the baselines and the restoration scores.
TEST_F(TaggerFileTest, SavedModelEvaluatesAsTheOriginal) {
  const std::vector<TaggedSequence> seqs = {
      {{"in", "the", "beginning"}, {"Cap", "lower", "lower,period"}},
      {{"and", "god", "said"}, {"Cap", "Cap", "lower,comma"}},
      {{"the", "lord"}, {"lower", "UPPER,period"}},
  };
  TaggerModel m;
  m.words = TokenIndex::build(seqs, 100, 1, "seqs");
  m.tags = LabelSet::from_json(
      R"(["Cap","Cap,period","UPPER,period","lower","lower,comma","lower,period"])", "tags");
  m.net = SequenceModel<float>(
      tagger_config(CellKind::gru, 1, true, m.words.size(), m.tags.size(), 6, 4));
  Rng rng(3);
  init_sequence_model(m.net, rng);
  save_tagger_model(Path("t.safetensors"), m, {{"note", "x"}});
  const TaggerModel back = load_tagger_model(Path("t.safetensors"));
  EXPECT_EQ(back.tags.names(), m.tags.names());
  EXPECT_EQ(back.words.size(), m.words.size());
  const std::vector<TagExample> ex = encode_tagged(seqs, back.words, back.tags, "seqs");
  const TaggerEvaluation ev = evaluate_tagger(back.net, back.tags, ex, 2);
  const auto pred = predict_tags(m.net, ex, 3);
  int64_t correct = 0;
  for (size_t i = 0; i < ex.size(); ++i)
    for (size_t t = 0; t < ex[i].tags.size(); ++t) correct += pred[i][t] == ex[i].tags[t];
  EXPECT_EQ(ev.tokens.examples, 8);
  EXPECT_EQ(ev.tokens.correct, correct);
  EXPECT_TRUE(ev.restoration);
  EXPECT_EQ(ev.positional.tokens, 8);
  EXPECT_EQ(ev.positional.correct, 4);  // "In the beginning." and "And"
  int64_t majority_count = 0;
  EXPECT_EQ(m.tags.name(ev.tokens.majority_class(&majority_count)), "Cap");
  EXPECT_EQ(majority_count, 3);
  const std::string report = tagging_report(ev, back.tags);
  for (const char* needle :
       {"token accuracy", "majority baseline", "punctuation present", "capitalised", "macro F1"})
    EXPECT_NE(report.find(needle), std::string::npos) << needle << " in\n" << report;
  EXPECT_RECUR_ERROR(encode_tagged({{{"x"}, {"NOUN"}}}, back.words, back.tags, "new.conll"),
                     "new.conll sequence 1", "label 'NOUN'");
  Safetensors<float> st = load_safetensors<float>(Path("t.safetensors"));
  st.metadata["task"] = "classify";
  save_safetensors(Path("c.safetensors"), st.tensors, st.metadata);
  EXPECT_RECUR_ERROR(load_tagger_model(Path("c.safetensors")), "c.safetensors",
                     "not a recur tagger");
}

}  // namespace
}  // namespace recur
