// Seq2Seq: finite-difference gradients (double) for every context and cell, scheduled sampling
// feeds the model's own greedy choices, beam search against exhaustive search, and a model that
// learns to reverse sequences.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/core/gemm.h"
#include "recur/models/seq2seq.h"
#include "recur/nn/loss.h"
#include "recur/train/optimizer.h"
#include "recur/train/param.h"

namespace recur {
namespace {

Seq2SeqConfig config(ContextKind context, ContextUse use, CellKind cell, bool bidirectional,
                     int layers = 1) {
  Seq2SeqConfig c;
  c.source_vocab = 5;
  c.target_vocab = 6;
  c.source_embed = 3;
  c.target_embed = 2;
  c.encoder.cell = cell;
  c.encoder.hidden_size = bidirectional ? 2 : 4;
  c.encoder.bidirectional = bidirectional;
  c.encoder.num_layers = layers;
  c.encoder.input_size = c.source_embed;
  c.decoder.cell = cell;
  c.decoder.hidden_size = 4;
  c.decoder.num_layers = layers;
  c.context = context;
  c.use = use;
  c.attention_size = 3;
  c.decoder.input_size = c.target_embed + c.feed_width();
  return c;
}

const std::vector<int64_t> kSrc0 = {1, 2, 3, 4}, kSrc1 = {2}, kSrc2 = {4, 0, 1};
const std::vector<int64_t> kTgt0 = {2, 3}, kTgt1 = {5, 4, 3, 2}, kTgt2 = {};

void check_gradients(const Seq2SeqConfig& cfg, const std::string& label) {
  const Seq2SeqBatch batch = make_seq2seq_batch({&kSrc0, &kSrc1, &kSrc2}, {&kTgt0, &kTgt1, &kTgt2});
  Seq2Seq<double> m(cfg);
  Rng rng(11);
  init_seq2seq(m, rng);
  Seq2Seq<double> g(cfg);
  seq2seq_batch(m, &g, batch, {});
  auto loss = [&] { return seq2seq_batch<double>(m, nullptr, batch, {}); };
  auto pn = m.named();
  auto gn = g.named();
  for (size_t i = 0; i < pn.size(); ++i)
    testing::expect_grad_matches(label + "." + pn[i].first, *pn[i].second, *gn[i].second, loss);
}

TEST(Seq2Seq, GradientsMatchFiniteDifferencesForEveryContext) {
  struct Case {
    ContextKind context;
    ContextUse use;
    bool bidirectional;
  };
  const Case cases[] = {
      {ContextKind::last, ContextUse::init, false},   {ContextKind::last, ContextUse::input, true},
      {ContextKind::last, ContextUse::both, true},    {ContextKind::bridge, ContextUse::init, true},
      {ContextKind::bridge, ContextUse::input, false}, {ContextKind::bridge, ContextUse::both, true},
      {ContextKind::bahdanau, ContextUse::input, true}, {ContextKind::bahdanau, ContextUse::both, true},
      {ContextKind::dot, ContextUse::both, true},      {ContextKind::general, ContextUse::input, false},
      {ContextKind::general, ContextUse::both, true}};
  for (const Case& k : cases)
    for (CellKind cell : {CellKind::lstm, CellKind::gru}) {
      const std::string label = std::string(context_kind_name(k.context)) + "/" +
                                context_use_name(k.use) + "/" + cell_name(cell) +
                                (k.bidirectional ? "/bi" : "");
      SCOPED_TRACE(label);
      check_gradients(config(k.context, k.use, cell, k.bidirectional), label);
    }
}

TEST(Seq2Seq, GradientsMatchWithTwoLayersAndATanhRnn) {
  check_gradients(config(ContextKind::bahdanau, ContextUse::both, CellKind::lstm, true, 2), "2l");
  check_gradients(config(ContextKind::general, ContextUse::both, CellKind::rnn_tanh, true, 2),
                  "rnn");
}

// Dropout on the embeddings and on o_t: the same masks every call (the generator is reseeded), so
// the loss is a smooth function of the weights and its gradient is checked as any other.
TEST(Seq2Seq, GradientsMatchWithDropoutAndScheduledSampling) {
  for (ContextKind context : {ContextKind::bahdanau, ContextKind::general, ContextKind::bridge}) {
    const Seq2SeqConfig cfg = config(context, ContextUse::both, CellKind::lstm, true, 2);
    const Seq2SeqBatch batch =
        make_seq2seq_batch({&kSrc0, &kSrc1, &kSrc2}, {&kTgt0, &kTgt1, &kTgt2});
    Seq2Seq<double> m(cfg);
    Rng init(12);
    init_seq2seq(m, init);
    auto run = [&](Seq2Seq<double>* g) {
      Rng r(7);
      RnnRunOptions opt{true, &r};
      return seq2seq_batch<double>(m, g, batch, opt, Seq2SeqTraining{0.5, &r, 0.3});
    };
    Seq2Seq<double> g(cfg);
    run(&g);
    auto pn = m.named();
    auto gn = g.named();
    for (size_t i = 0; i < pn.size(); ++i)
      testing::expect_grad_matches(std::string(context_kind_name(context)) + ".dropout." + pn[i].first,
                                   *pn[i].second, *gn[i].second, [&] { return run(nullptr); });
    Rng r(7);
    const double with = seq2seq_batch<double>(m, nullptr, batch, {}, Seq2SeqTraining{1.0, &r, 0.3});
    EXPECT_NE(with, seq2seq_batch<double>(m, nullptr, batch, {})) << "dropout changed nothing";
  }
}

TEST(Seq2Seq, ConfigurationClashesAreRefused) {
  Seq2SeqConfig c = config(ContextKind::bahdanau, ContextUse::init, CellKind::lstm, true);
  EXPECT_RECUR_ERROR(c.validate(), "enters the decoder as input at every step");
  c = config(ContextKind::last, ContextUse::init, CellKind::lstm, false);
  c.encoder.hidden_size = 3;
  EXPECT_RECUR_ERROR(c.validate(), "context 'last' as the decoder's initial state");
  c = config(ContextKind::dot, ContextUse::both, CellKind::lstm, false);
  c.encoder.hidden_size = 3;
  c.decoder.input_size = c.target_embed + c.feed_width();
  EXPECT_RECUR_ERROR(c.validate(), "dot attention needs");
  c = config(ContextKind::bahdanau, ContextUse::both, CellKind::lstm, true);
  c.decoder.bidirectional = true;
  EXPECT_RECUR_ERROR(c.validate(), "cannot be bidirectional");
  const std::vector<int64_t> bad = {1};
  EXPECT_RECUR_ERROR(make_seq2seq_batch({&kSrc0}, {&bad}), "holds id 1");
  const std::vector<int64_t> empty;
  EXPECT_RECUR_ERROR(make_seq2seq_batch({&empty}, {&kTgt0}), "source 0 of the batch is empty");
}

TEST(Seq2Seq, MetadataRoundTrips) {
  const Seq2SeqConfig c = config(ContextKind::general, ContextUse::input, CellKind::gru, true, 2);
  const Seq2SeqConfig r = Seq2SeqConfig::from_metadata(c.to_metadata());
  EXPECT_EQ(r.to_metadata(), c.to_metadata());
  EXPECT_EQ(r.encoder.hidden_size, 2);
  EXPECT_TRUE(r.encoder.bidirectional);
  EXPECT_EQ(r.decoder.cell, CellKind::gru);
}

// With teacher forcing 0 every decoder input after <s> is the model's own most likely previous
// token, so the batch's argmaxes are exactly what greedy decoding writes (up to its end symbol).
TEST(Seq2Seq, ScheduledSamplingAtZeroFeedsTheGreedyChoices) {
  Seq2SeqConfig c = config(ContextKind::bahdanau, ContextUse::both, CellKind::lstm, true);
  Seq2Seq<float> m(c);
  Rng init(3);
  init_seq2seq(m, init);
  const std::vector<int64_t> long_target(12, 3);  // long enough to hold the greedy output
  const Seq2SeqBatch b = make_seq2seq_batch({&kSrc0, &kSrc2}, {&long_target, &long_target});
  Rng rng(1);
  Tensor<float> logits;
  seq2seq_batch<float>(m, nullptr, b, {}, Seq2SeqTraining{0.0, &rng}, &logits);
  const auto greedy = seq2seq_greedy(m, {&kSrc0, &kSrc2}, 12);
  const int64_t V = c.target_vocab;
  for (int64_t s = 0; s < 2; ++s) {
    for (size_t t = 0; t < greedy[size_t(s)].size(); ++t) {
      float* z = logits.ptr() + (int64_t(t) * 2 + s) * V;
      z[Seq2SeqConfig::kBos] = -1e30f;
      EXPECT_EQ(int64_t(std::max_element(z, z + V) - z), greedy[size_t(s)][t])
          << "sequence " << s << " step " << t;
    }
  }
  // ... and teacher forcing 1 ignores the generator: the loss equals the plain batch's.
  Rng r2(5);
  EXPECT_EQ(seq2seq_batch<float>(m, nullptr, b, {}, Seq2SeqTraining{1.0, &r2}),
            seq2seq_batch<float>(m, nullptr, b, {}));
  EXPECT_RECUR_ERROR(seq2seq_batch<float>(m, nullptr, b, {}, Seq2SeqTraining{0.5, nullptr}),
                     "need a random generator");
}

// log P(y | x) of a whole output (EOS included), from the training batch's loss.
double sequence_log_prob(const Seq2Seq<float>& m, const std::vector<int64_t>& src,
                         const std::vector<int64_t>& y) {
  const Seq2SeqBatch b = make_seq2seq_batch({&src}, {&y});
  int64_t n = 0;
  const double mean = seq2seq_batch<float>(m, nullptr, b, {}, {}, nullptr, &n);
  return -mean * double(n);
}

// On a vocabulary of 2 real tokens and outputs up to 4 long, a beam wide enough to hold every
// prefix finds the output of highest score among all 31; beam 1 is greedy decoding.
TEST(Seq2Seq, BeamSearchFindsTheBestOutputAndBeamOneIsGreedy) {
  Seq2SeqConfig c = config(ContextKind::general, ContextUse::both, CellKind::gru, true);
  c.target_vocab = 4;
  Seq2Seq<float> m(c);
  Rng init(8);
  init_seq2seq(m, init);
  for (auto& v : m.b_out.data) v *= 4;  // make EOS and the tokens compete
  const int64_t max_len = 4;
  for (double alpha : {0.0, 1.0}) {
    double best = -1e300;
    std::vector<int64_t> best_y;
    std::vector<std::vector<int64_t>> all = {{}};
    for (size_t i = 0; i < all.size(); ++i)
      if (all[i].size() < size_t(max_len))
        for (int64_t v : {2, 3}) {
          auto y = all[i];
          y.push_back(v);
          all.push_back(y);
        }
    for (const auto& y : all) {
      double lp = sequence_log_prob(m, kSrc0, y);
      if (int64_t(y.size()) == max_len) {  // the beam stops there: no EOS to score
        Seq2SeqBatch b = make_seq2seq_batch({&kSrc0}, {&y});
        Tensor<float> logits;
        seq2seq_batch<float>(m, nullptr, b, {}, {}, &logits);
        double total = 0;
        for (int64_t t = 0; t < max_len; ++t) {
          Tensor<float> row({1, c.target_vocab});
          std::copy_n(logits.ptr() + t * c.target_vocab, c.target_vocab, row.ptr());
          log_softmax(row.ptr(), row.ptr(), 1, c.target_vocab);
          total += row[y[size_t(t)]];
        }
        lp = total;
      }
      const double score = lp / std::pow(double(y.size() + 1), alpha);
      if (score > best) best = score, best_y = y;
    }
    const auto hyps = seq2seq_beam(m, kSrc0, 64, alpha, max_len);
    ASSERT_FALSE(hyps.empty());
    EXPECT_EQ(hyps[0].tokens, best_y) << "alpha " << alpha;
    EXPECT_NEAR(hyps[0].score, best, 1e-4);
    for (size_t i = 1; i < hyps.size(); ++i) EXPECT_GE(hyps[i - 1].score, hyps[i].score);
  }
  for (const auto* src : {&kSrc0, &kSrc1, &kSrc2})
    EXPECT_EQ(seq2seq_beam(m, *src, 1, 0.0)[0].tokens, seq2seq_greedy(m, {src})[0]);
}

// The attention's loops split the batch rows across threads once the work is large enough (here
// B * S * A = 64 * 8 * 64): 1 and 2 threads give the same loss and gradients, for each attention.
TEST(Seq2Seq, OneAndTwoThreadsAgree) {
  for (ContextKind context : {ContextKind::bahdanau, ContextKind::dot, ContextKind::general}) {
    Seq2SeqConfig c = config(context, ContextUse::both, CellKind::lstm, true);
    c.source_vocab = c.target_vocab = 12;
    c.encoder.hidden_size = 32;
    c.decoder.hidden_size = 64;
    c.attention_size = 64;
    c.decoder.input_size = c.target_embed + c.feed_width();
    Seq2Seq<double> m(c);
    Rng rng(4);
    init_seq2seq(m, rng);
    std::vector<std::vector<int64_t>> src(64), tgt(64);
    std::vector<const std::vector<int64_t>*> s, t;
    for (size_t i = 0; i < 64; ++i) {
      for (size_t k = 0; k < 3 + i % 6; ++k) src[i].push_back(int64_t((i * 7 + k * 3) % 12));
      src[i].push_back(int64_t(i % 12));
      for (size_t k = 0; k < 1 + i % 5; ++k) tgt[i].push_back(2 + int64_t((i + k) % 10));
      s.push_back(&src[i]);
      t.push_back(&tgt[i]);
    }
    const Seq2SeqBatch b = make_seq2seq_batch(s, t);
    ASSERT_EQ(b.source_steps, 9);
    Seq2Seq<double> g1(c), g2(c);
    set_num_threads(1);
    const double l1 = seq2seq_batch(m, &g1, b, {});
    set_num_threads(2);
    const double l2 = seq2seq_batch(m, &g2, b, {});
    set_num_threads(1);
    EXPECT_NEAR(l1, l2, 1e-12) << context_kind_name(context);
    auto n1 = g1.named();
    auto n2 = g2.named();
    for (size_t i = 0; i < n1.size(); ++i)
      for (int64_t k = 0; k < n1[i].second->numel(); ++k)
        ASSERT_NEAR((*n1[i].second)[k], (*n2[i].second)[k], 1e-12)
            << context_kind_name(context) << " " << n1[i].first << "[" << k << "]";
  }
}

// Reversing sequences of 3..6 tokens over 8 symbols needs the whole source: a small attention
// model learns it in 300 Adam steps; greedy and beam decoding then reverse new sequences.
TEST(Seq2Seq, LearnsToReverseSequences) {
  Seq2SeqConfig c = config(ContextKind::bahdanau, ContextUse::both, CellKind::lstm, true);
  c.source_vocab = 10;
  c.target_vocab = 10;
  c.source_embed = 8;
  c.target_embed = 8;
  c.encoder.input_size = 8;
  c.encoder.hidden_size = 16;
  c.decoder.hidden_size = 32;
  c.attention_size = 16;
  c.decoder.input_size = c.target_embed + c.feed_width();
  Seq2Seq<float> m(c), g(c);
  Rng rng(2);
  init_seq2seq(m, rng);
  auto params = param_list(m, g);
  OptimizerConfig oc;
  oc.kind = OptimizerKind::kAdam;
  oc.lr = 1e-2;
  Optimizer<float> opt(oc);
  auto example = [&](std::vector<int64_t>& src, std::vector<int64_t>& tgt) {
    const int64_t n = 3 + int64_t(rng.uniform() * 4);
    src.clear();
    for (int64_t i = 0; i < n; ++i) src.push_back(2 + int64_t(rng.uniform() * 8));
    tgt.assign(src.rbegin(), src.rend());
  };
  std::vector<std::vector<int64_t>> src(32), tgt(32);
  for (int step = 0; step < 300; ++step) {
    std::vector<const std::vector<int64_t>*> s, t;
    for (size_t i = 0; i < 32; ++i) {
      example(src[i], tgt[i]);
      s.push_back(&src[i]);
      t.push_back(&tgt[i]);
    }
    zero_grads(params);
    seq2seq_batch(m, &g, make_seq2seq_batch(s, t), {}, Seq2SeqTraining{0.9, &rng});
    opt.step(params);
  }
  int greedy_right = 0, beam_right = 0;
  for (int i = 0; i < 50; ++i) {
    std::vector<int64_t> s, t;
    example(s, t);
    greedy_right += seq2seq_greedy(m, {&s})[0] == t;
    beam_right += seq2seq_beam(m, s, 4)[0].tokens == t;
  }
  EXPECT_GE(greedy_right, 40);
  EXPECT_GE(beam_right, 40);
}

}  // namespace
}  // namespace recur
