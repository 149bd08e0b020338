// ONNX export (recur/io/onnx.h): a language model (LSTM, GRU, RNN, peepholes, both GRU
// conventions, stacked), a bidirectional tagger over ragged lengths (mixed stacks too) and a
// last-state classifier (tokens and dense input) exported, read back with OnnxGraph and run: the outputs equal recur's own
// forward on the same inputs. What ONNX cannot express is refused with the reason.
// (tests/cli/export_onnx_check.sh runs ONNX's Python checker on exported files.)
#include <gtest/gtest.h>

#include "expect_error.h"
#include "recur/io/onnx.h"
#include "recur/io/safetensors.h"
#include "recur/layers/rnn_spec.h"
#include "recur/models/classifier_model.h"
#include "recur/models/forecaster_model.h"
#include "recur/nn/embedding.h"
#include "recur/nn/linear.h"
#include "recur/train/clm_trainer.h"
#include "recur/models/language_model.h"
#include "recur/models/seq2seq_model.h"
#include "recur/models/tagger_model.h"
#include "scratch_dir.h"

namespace recur {
namespace {

class OnnxExport : public testing::ScratchDirTest {};

void expect_close(const OnnxValue& got, const Tensor<float>& want, const char* what) {
  ASSERT_EQ(got.numel(), want.numel()) << what;
  for (int64_t k = 0; k < want.numel(); ++k)
    ASSERT_NEAR(got.f[size_t(k)], want[k], 1e-5 * (1 + std::abs(want[k]))) << what << "[" << k << "]";
}

SequenceModelConfig lm_config(CellKind cell, void (*tweak)(RnnConfig&)) {
  SequenceModelConfig c;
  c.vocab = c.outputs = 11;
  c.embed = 5;
  c.rnn.cell = cell;
  c.rnn.input_size = 5;
  c.rnn.hidden_size = 6;
  c.rnn.num_layers = 2;
  if (tweak) tweak(c.rnn);
  return c;
}

TEST_F(OnnxExport, LanguageModelsRunToRecursOwnLogitsAndStates) {
  struct Case {
    const char* name;
    CellKind cell;
    void (*tweak)(RnnConfig&);
  };
  for (const Case& k : {Case{"lstm", CellKind::lstm, nullptr},
                        Case{"lstm_peephole", CellKind::lstm, [](RnnConfig& c) { c.peephole = true; }},
                        Case{"gru", CellKind::gru, nullptr},
                        Case{"gru_reset_before", CellKind::gru, [](RnnConfig& c) { c.gru = GruConvention::reset_before; }},
                        Case{"rnn_relu", CellKind::rnn_relu, nullptr}}) {
    SCOPED_TRACE(k.name);
    LanguageModel lm;
    lm.vocab = Vocab::build("abcdefghij\n", TokenMode::chars, 0, "test");
    lm.net = SequenceModel<float>(lm_config(k.cell, k.tweak));
    Rng rng(3);
    init_sequence_model(lm.net, rng);
    for (auto& v : lm.net.rnn.cells[0].w_peep.data) v = float(rng.uniform(-1, 1));
    save_language_model(Path("lm.safetensors"), lm);
    export_onnx(Path("lm.safetensors"), Path("lm.onnx"));
    const OnnxGraph g = OnnxGraph::load(Path("lm.onnx"));
    const int64_t T = 6, B = 2, LD = 2, H = 6;
    std::vector<int64_t> tokens;
    for (int64_t i = 0; i < T * B; ++i) tokens.push_back((i * 5 + 1) % 11);
    RnnState<float> state{Tensor<float>({LD, B, H}), k.cell == CellKind::lstm ? Tensor<float>({LD, B, H}) : Tensor<float>()};
    for (auto& v : state.h.data) v = float(rng.uniform(-1, 1));
    for (auto& v : state.c.data) v = float(rng.uniform(-1, 1));
    std::map<std::string, OnnxValue> feeds{{"tokens", OnnxValue::ints({T, B}, tokens)},
                                           {"h0", OnnxValue::floats({LD, B, H}, state.h.data)}};
    if (k.cell == CellKind::lstm) feeds["c0"] = OnnxValue::floats({LD, B, H}, state.c.data);
    const auto out = g.run(feeds);
    Tensor<float> logits;
    sequence_model_window<float>(lm.net, nullptr, tokens, std::vector<int64_t>(tokens.size(), 0), T, B, state, {},
                                 nullptr, nullptr, &logits);
    expect_close(out.at("logits"), logits, "logits");
    expect_close(out.at("hn"), state.h, "hn");
    if (k.cell == CellKind::lstm) expect_close(out.at("cn"), state.c, "cn");
  }
}

TEST_F(OnnxExport, BidirectionalTaggerOverRaggedLengths) {
  // Concatenated, summed, and a mixed stack of both (and a unidirectional top).
  for (const char* mixed : {"", "lstm:6,bi;gru:4,bi=sum;gru:4,bi=sum;rnn_relu:5"})
  for (const DirectionMerge merge : {DirectionMerge::concat, DirectionMerge::sum}) {
  if (*mixed && merge == DirectionMerge::sum) continue;
  SCOPED_TRACE(*mixed ? mixed : merge == DirectionMerge::sum ? "bi=sum" : "bi");
  TaggerModel m;
  std::vector<std::string> words = {"in", "the", "beginning", "god", "created"};
  m.words = TokenIndex::build({&words}, 100, 1, "test");
  m.tags = LabelSet::numbered(4);
  SequenceModelConfig c = lm_config(CellKind::lstm, [](RnnConfig& r) { r.bidirectional = true; });
  c.rnn.merge = merge;
  if (*mixed) c.rnn = rnn_config_from_spec(parse_rnn_spec(mixed), c.embed);
  c.vocab = m.words.size();
  c.outputs = 4;
  m.net = SequenceModel<float>(c);
  Rng rng(4);
  init_sequence_model(m.net, rng);
  save_tagger_model(Path("tagger.safetensors"), m);
  export_onnx(Path("tagger.safetensors"), Path("tagger.onnx"));
  const OnnxGraph g = OnnxGraph::load(Path("tagger.onnx"));
  const int64_t T = 5, B = 3;
  const std::vector<int64_t> lengths = {5, 2, 4};
  std::vector<int64_t> tokens, targets;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t b = 0; b < B; ++b) {
      tokens.push_back((t + 2 * b) % c.vocab);
      targets.push_back(t < lengths[size_t(b)] ? 1 : -1);
    }
  const auto out = g.run({{"tokens", OnnxValue::ints({T, B}, tokens)}, {"lengths", OnnxValue::ints({B}, lengths)}});
  RnnState<float> state;
  Tensor<float> logits;
  sequence_model_window<float>(m.net, nullptr, tokens, targets, T, B, state, {}, nullptr, &lengths, &logits);
  expect_close(out.at("logits"), logits, "logits");
  }
}

TEST_F(OnnxExport, ClassifiersOfEveryHeadOnTokensAndOnValues) {
  struct Head {
    ClassifierHead head;
    Pooling pooling;
  };
  for (const Head h : {Head{ClassifierHead::pool, Pooling::last}, Head{ClassifierHead::pool, Pooling::mean},
                       Head{ClassifierHead::pool, Pooling::max}, Head{ClassifierHead::textrnn2, Pooling::last},
                       Head{ClassifierHead::rcnn, Pooling::last}})
  for (const bool dense : {false, true}) {
    // On values the encoder sums its directions (bi=sum), on tokens it concatenates them and the
    // output is the Keras recipe's: a dense ReLU layer and a sigmoid over 2 classes.
    SCOPED_TRACE(std::string(classifier_head_name(h.head)) + "/" + pooling_name(h.pooling) +
                 (dense ? " values, bi=sum" : " tokens, bi, dense, sigmoid"));
    ClassifierModel m;
    m.input = dense ? ClassifierInput::image_rows : ClassifierInput::text;
    m.encoder = TextEncoder::bytes();
    m.max_len = 50;
    m.labels = LabelSet::numbered(dense ? 3 : 2);
    ClassifierConfig c;
    if (dense) c.features = 4;
    else {
      c.vocab = 256;
      c.embed = 5;
    }
    c.rnn.cell = CellKind::gru;
    c.rnn.input_size = dense ? 4 : 5;
    c.rnn.hidden_size = 6;
    c.rnn.num_layers = 2;
    c.rnn.bidirectional = true;
    c.rnn.merge = dense ? DirectionMerge::sum : DirectionMerge::concat;
    // On values a mixed stack: a GRU under an LSTM whose summed directions feed the heads.
    if (dense) c.rnn = rnn_config_from_spec(parse_rnn_spec("gru:6,bi;lstm:5,peephole,bi=sum"), 4);
    c.classes = dense ? 3 : 2;
    if (!dense) {
      c.dense = 3;
      c.output = ClassifierOutput::sigmoid;
    }
    c.head = h.head;
    c.pooling = h.pooling;
    if (h.head != ClassifierHead::pool) c.top_hidden = 7;
    m.net = SequenceClassifier<float>(c);
    Rng rng(5);
    init_classifier(m.net, rng);
    save_classifier_model(Path("cls.safetensors"), m);
    export_onnx(Path("cls.safetensors"), Path("cls.onnx"));
    const OnnxGraph g = OnnxGraph::load(Path("cls.onnx"));
    ClassifierBatch<float> batch;
    batch.steps = 5;
    batch.batch = 3;
    batch.lengths = {5, 1, 3};
    batch.labels = {0, 1, c.classes - 1};
    std::map<std::string, OnnxValue> feeds{{"lengths", OnnxValue::ints({3}, batch.lengths)}};
    if (dense) {
      batch.values = Tensor<float>({5, 3, 4});
      for (auto& v : batch.values.data) v = float(rng.uniform(-1, 1));
      feeds["values"] = OnnxValue::floats({5, 3, 4}, batch.values.data);
    } else {
      for (int64_t k = 0; k < 15; ++k) batch.tokens.push_back((k * 37) % 256);
      feeds["tokens"] = OnnxValue::ints({5, 3}, batch.tokens);
    }
    Tensor<float> logits;
    classifier_batch<float>(m.net, nullptr, batch, {}, &logits);
    expect_close(g.run(feeds).at("logits"), logits, "logits");
  }
}

// Seq2seq: the encoder graph once, then the decoder-step graph fed the teacher-forced inputs step
// by step, against seq2seq_batch's logits for every context and use.
TEST_F(OnnxExport, Seq2SeqEncoderAndDecoderStepGraphs) {
  struct Case {
    ContextKind context;
    ContextUse use;
    CellKind cell;
    DirectionMerge merge = DirectionMerge::concat;  // of the bidirectional encoder
  };
  for (const Case& k : {Case{ContextKind::last, ContextUse::init, CellKind::lstm},
                        Case{ContextKind::last, ContextUse::init, CellKind::gru, DirectionMerge::sum},
                        Case{ContextKind::bahdanau, ContextUse::both, CellKind::lstm, DirectionMerge::sum},
                        Case{ContextKind::dot, ContextUse::both, CellKind::lstm, DirectionMerge::sum},
                        Case{ContextKind::last, ContextUse::input, CellKind::gru},
                        Case{ContextKind::bridge, ContextUse::both, CellKind::lstm},
                        Case{ContextKind::bahdanau, ContextUse::both, CellKind::lstm},
                        Case{ContextKind::bahdanau, ContextUse::input, CellKind::gru},
                        Case{ContextKind::dot, ContextUse::both, CellKind::gru},
                        Case{ContextKind::general, ContextUse::input, CellKind::lstm}}) {
    SCOPED_TRACE(std::string(context_kind_name(k.context)) + "/" + context_use_name(k.use) + "/" + cell_name(k.cell) +
                 (k.merge == DirectionMerge::sum ? "/bi=sum" : "/bi"));
    Seq2SeqModel sm;
    std::vector<std::string> src = {"a", "b", "c", "d", "e"}, tgt = {"x", "y", "z", "w"};
    sm.source = TokenIndex::build({&src}, 100, 1, "test");
    sm.target = TokenIndex::build({&tgt}, 100, 1, "test");
    Seq2SeqConfig c;
    c.source_vocab = sm.source.size();
    c.target_vocab = 2 + sm.target.size();
    c.source_embed = 5;
    c.target_embed = 4;
    c.encoder.cell = k.cell;
    c.encoder.hidden_size = 4;
    c.encoder.bidirectional = true;
    c.encoder.merge = k.merge;
    c.encoder.num_layers = 2;
    c.encoder.input_size = 5;
    c.decoder.cell = k.cell;
    c.decoder.hidden_size = c.encoder.output_size();  // 8, or 4 summed: 'last' and 'dot' need it
    c.decoder.num_layers = 2;
    c.context = k.context;
    c.use = k.use;
    c.attention_size = 6;
    c.decoder.input_size = c.target_embed + c.feed_width();
    sm.net = Seq2Seq<float>(c);
    Rng rng(6);
    init_seq2seq(sm.net, rng);
    save_seq2seq_model(Path("s2s.safetensors"), sm);
    export_onnx(Path("s2s.safetensors"), Path("s2s.onnx"));
    const auto paths = export_onnx_paths(Path("s2s.safetensors"), Path("s2s.onnx"));
    ASSERT_EQ(paths.size(), 2u);
    const OnnxGraph enc = OnnxGraph::load(paths[0]), dec = OnnxGraph::load(paths[1]);

    const std::vector<int64_t> s1 = {2, 3, 4, 1}, s2 = {5, 2}, t1 = {2, 3, 4}, t2 = {5};
    const Seq2SeqBatch batch = make_seq2seq_batch({&s1, &s2}, {&t1, &t2});
    Tensor<float> logits;
    seq2seq_batch<float>(sm.net, nullptr, batch, {}, {}, &logits);
    const int64_t B = batch.batch, S = batch.source_steps, T = batch.target_steps, V = c.target_vocab;
    auto e = enc.run({{"source", OnnxValue::ints({S, B}, batch.source)},
                      {"source_lengths", OnnxValue::ints({B}, batch.source_lengths)}});
    std::map<std::string, OnnxValue> state{{"h", e.at("h0")}};
    if (k.cell == CellKind::lstm) state["c"] = e.at("c0");
    if (e.count("feed") && std::count(dec.inputs().begin(), dec.inputs().end(), "feed")) state["feed"] = e.at("feed");
    for (int64_t t = 0; t < T; ++t) {
      std::map<std::string, OnnxValue> feeds = state;
      feeds["token"] = OnnxValue::ints({B}, std::vector<int64_t>(batch.inputs.begin() + t * B, batch.inputs.begin() + (t + 1) * B));
      if (c.attention()) {
        feeds["memory"] = e.at("memory");
        feeds["keys"] = e.at("keys");
        feeds["mask"] = e.at("mask");
      }
      const auto out = dec.run(feeds);
      Tensor<float> want({B, V});
      std::copy_n(logits.ptr() + t * B * V, B * V, want.ptr());
      SCOPED_TRACE("step " + std::to_string(t));
      expect_close(out.at("logits"), want, "logits");
      state["h"] = out.at("h_next");
      if (k.cell == CellKind::lstm) state["c"] = out.at("c_next");
      if (state.count("feed")) state["feed"] = out.at("feed_next");
    }
  }
}

// Forecasters in the data's units: direct (with and without the residual skip) against
// forecaster_predict on the normalised window, denormalised; recursive driven step by step over the
// window and then over its own predictions, against the same rollout.
TEST_F(OnnxExport, ForecastersDirectAndRecursive) {
  for (const int variant : {0, 1, 2}) {  // direct, direct + residual, recursive + residual
    SCOPED_TRACE("variant " + std::to_string(variant));
    const bool recursive = variant == 2;
    ForecasterModel fm;
    set_forecaster_columns(fm, {"a", "b"}, recursive ? std::vector<std::string>{"a", "b"} : std::vector<std::string>{"b", "c"});
    if (variant == 1) set_forecaster_columns(fm, {"a", "b"}, {"b"});
    fm.input_count = 2;
    fm.window = 5;
    fm.norm.mean = {1.5, -2.0, 10.0};
    fm.norm.std = {0.5, 3.0, 2.0};
    fm.norm.mean.resize(fm.columns.size());  // one per column read
    fm.norm.std.resize(fm.columns.size());
    ForecasterConfig c;
    c.rnn.cell = variant == 1 ? CellKind::gru : CellKind::lstm;
    c.rnn.input_size = 2;
    c.rnn.hidden_size = 6;
    c.rnn.num_layers = 2;
    c.strategy = recursive ? ForecastStrategy::recursive : ForecastStrategy::direct;
    c.horizon = 3;
    c.targets = int64_t(fm.targets.size());
    c.residual = variant > 0;
    if (variant == 1) c.target_inputs = {1};
    fm.net = Forecaster<float>(c);
    fm.ar.weight = Tensor<double>({3 * c.targets, 5 * 2});  // the AR baseline saved beside it
    fm.ar.bias = Tensor<double>({3 * c.targets});
    Rng rng(7);
    init_forecaster(fm.net, rng);
    save_forecaster_model(Path("f.safetensors"), fm);
    export_onnx(Path("f.safetensors"), Path("f.onnx"));
    const OnnxGraph g = OnnxGraph::load(Path("f.onnx"));
    const int64_t W = 5, B = 2, I = 2, H = 3;
    Tensor<float> raw({W, B, I}), xn({W, B, I});
    for (int64_t k = 0; k < raw.numel(); ++k) {
      raw[k] = float(rng.uniform(-5, 5));
      xn[k] = float((raw[k] - fm.norm.mean[size_t(k % I)]) / fm.norm.std[size_t(k % I)]);
    }
    const Tensor<float> pred = forecaster_predict(fm.net, xn);  // (B,H,outputs), normalised
    const int64_t O = pred.dim(2);
    const std::vector<int64_t> cols = recursive ? fm.inputs() : fm.targets;
    Tensor<float> want({B, H, O});
    for (int64_t k = 0; k < want.numel(); ++k)
      want[k] = float(pred[k] * fm.norm.std[size_t(cols[size_t(k % O)])] + fm.norm.mean[size_t(cols[size_t(k % O)])]);
    if (!recursive) {
      expect_close(g.run({{"window", OnnxValue::floats(raw.shape, raw.data)}}).at("forecast"), want, "forecast");
      continue;
    }
    std::map<std::string, OnnxValue> state{{"h", OnnxValue::floats({2, B, 6}, std::vector<float>(2 * B * 6, 0.0f))},
                                           {"c", OnnxValue::floats({2, B, 6}, std::vector<float>(2 * B * 6, 0.0f))}};
    std::vector<float> x(raw.data.begin(), raw.data.begin() + B * I);
    for (int64_t s = 0; s < W + H - 1; ++s) {
      if (s < W) x.assign(raw.data.begin() + s * B * I, raw.data.begin() + (s + 1) * B * I);
      auto feeds = state;
      feeds["x"] = OnnxValue::floats({B, I}, x);
      const auto out = g.run(feeds);
      state["h"] = out.at("h_next");
      state["c"] = out.at("c_next");
      x = out.at("next").f;
      if (s >= W - 1) {
        const int64_t h = s - (W - 1);
        for (int64_t b = 0; b < B; ++b)
          for (int64_t i = 0; i < I; ++i)
            ASSERT_NEAR(x[size_t(b * I + i)], want[(b * H + h) * I + i], 1e-4 * (1 + std::abs(want[(b * H + h) * I + i])))
                << "step " << h << " row " << b << " column " << i;
      }
    }
  }
}

// Conditional byte LMs in the three condition modes and the three endings, against the model's
// own pieces: the condition's embedding and initial state, the RNN, the decoder, the end head.
// A model of condition vectors is fed one-hot vectors, which must give its classes' results.
TEST_F(OnnxExport, ConditionalLanguageModels) {
  struct Case {
    ConditionMode mode;
    SequenceEnding ending;
    CellKind cell;
    bool vectors = false;
  };
  for (const Case& k : {Case{ConditionMode::both, SequenceEnding::stop, CellKind::lstm},
                        Case{ConditionMode::input, SequenceEnding::length, CellKind::gru},
                        Case{ConditionMode::init, SequenceEnding::eos, CellKind::rnn_tanh},
                        Case{ConditionMode::both, SequenceEnding::eos, CellKind::gru, true}}) {
    SCOPED_TRACE(std::string(condition_mode_name(k.mode)) + "/" + sequence_ending_name(k.ending));
    ConditionalTextModel tm;
    tm.conditions = LabelSet::numbered(3);
    ConditionalLmConfig c;
    c.conditions = 3;
    c.vectors = k.vectors;
    c.mode = k.mode;
    c.ending = k.ending;
    c.embed = 5;
    c.cond_embed = 4;
    c.rnn.cell = k.cell;
    c.rnn.hidden_size = 6;
    c.rnn.num_layers = 2;
    c.rnn.input_size = c.embed + (c.uses_input() ? c.cond_embed : 0);
    tm.net = ConditionalLm<float>(c);
    Rng rng(9);
    init_conditional_lm(tm.net, rng);
    for (auto* t : {&tm.net.w_end, &tm.net.b_end})
      for (auto& v : t->data) v = float(rng.uniform(-1, 1));
    save_conditional_text_model(Path("clm.safetensors"), tm);
    export_onnx(Path("clm.safetensors"), Path("clm.onnx"));
    const OnnxGraph g = OnnxGraph::load(Path("clm.onnx"));
    const int64_t T = 4, B = 2, L = 2, H = 6, V = c.kVocab, E = c.embed, I = c.rnn.input_size;
    const std::vector<int64_t> tokens = {256, 256, 72, 101, 105, 108, 33, 10}, cond = {2, 0};
    // The reference: h0 from the condition, x = [embed; cond embed], the RNN, the heads.
    RnnState<float> init{Tensor<float>({L, B, H}), k.cell == CellKind::lstm ? Tensor<float>({L, B, H}) : Tensor<float>()};
    if (c.uses_init())
      for (int64_t l = 0; l < L; ++l)
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < H; ++j)
            init.h[(l * B + b) * H + j] = std::tanh(tm.net.cond_init[cond[size_t(b)] * L * H + l * H + j]);
    Tensor<float> e({T * B, E}), x({T, B, I}), y, logits({T * B, V});
    embedding_forward(e.ptr(), tokens.data(), tm.net.embedding.ptr(), T * B, V, E);
    for (int64_t r = 0; r < T * B; ++r) {
      std::copy_n(e.ptr() + r * E, E, x.ptr() + r * I);
      if (c.uses_input()) std::copy_n(tm.net.cond_embedding.ptr() + cond[size_t(r % B)] * c.cond_embed, c.cond_embed, x.ptr() + r * I + E);
    }
    RnnState<float> fin;
    RnnCache<float> cache;
    rnn_forward(y, fin, cache, tm.net.rnn, x, {}, &init);
    linear_forward(logits.ptr(), y.ptr(), tm.net.w_out.ptr(), tm.net.b_out.ptr(), T * B, H, V);
    std::map<std::string, OnnxValue> feeds{{"tokens", OnnxValue::ints({T, B}, tokens)}, {"condition", OnnxValue::ints({B}, cond)},
                                           {"h", OnnxValue::floats({L, B, H}, init.h.data)}};
    if (k.vectors) feeds["condition"] = OnnxValue::floats({B, 3}, {0, 0, 1, 1, 0, 0});
    if (k.cell == CellKind::lstm) feeds["c"] = OnnxValue::floats({L, B, H}, init.c.data);
    const auto out = g.run(feeds);
    expect_close(out.at("logits"), logits, "logits");
    expect_close(out.at("h_next"), fin.h, "h_next");
    if (c.uses_init()) expect_close(out.at("h_init"), init.h, "h_init");
    if (k.ending != SequenceEnding::eos) {
      Tensor<float> z({T * B});
      for (int64_t r = 0; r < T * B; ++r) {
        float a = tm.net.b_end[0];
        for (int64_t j = 0; j < H; ++j) a += tm.net.w_end[j] * y[r * H + j];
        z[r] = k.ending == SequenceEnding::stop ? 1.0f / (1.0f + std::exp(-a)) : a;
      }
      if (k.ending == SequenceEnding::stop) {
        expect_close(out.at("stop"), z, "stop");
      } else {
        Tensor<float> first({B});
        std::copy_n(z.ptr(), B, first.ptr());
        expect_close(out.at("length"), first, "length");
      }
    }
  }
  ConditionalTextModel tm;
  tm.conditions = LabelSet::numbered(3);
  ConditionalLmConfig c;
  c.conditions = 3;
  c.mode = ConditionMode::first;
  c.rnn.hidden_size = 4;
  c.rnn.input_size = c.embed + c.cond_embed;
  tm.net = ConditionalLm<float>(c);
  save_conditional_text_model(Path("first.safetensors"), tm);
  EXPECT_RECUR_ERROR(export_onnx(Path("first.safetensors"), Path("first.onnx")), "first.safetensors",
                     "condition mode 'first' is not exported");
}

TEST_F(OnnxExport, RefusesWhatOnnxCannotExpress) {
  LanguageModel lm;
  lm.vocab = Vocab::build("abcdefghij\n", TokenMode::chars, 0, "test");
  lm.net = SequenceModel<float>(lm_config(CellKind::lstm, [](RnnConfig& c) { c.layer_norm = true; }));
  save_language_model(Path("ln.safetensors"), lm);
  EXPECT_RECUR_ERROR(export_onnx(Path("ln.safetensors"), Path("ln.onnx")), "ln.safetensors", "layer norm");
  EXPECT_FALSE(std::filesystem::exists(Path("ln.onnx")));
  RnnConfig cfg;
  cfg.input_size = 2;
  cfg.hidden_size = 3;
  RnnParams<float> p(cfg);
  std::map<std::string, Tensor<float>> tensors;
  for (const auto& [name, t] : p.named()) tensors[name] = *t;
  save_safetensors(Path("bare.safetensors"), tensors, cfg.to_metadata());
  EXPECT_RECUR_ERROR(export_onnx(Path("bare.safetensors"), Path("bare.onnx")), "bare.safetensors", "task");
  EXPECT_RECUR_ERROR(export_onnx(Path("missing.safetensors"), Path("m.onnx")), "missing.safetensors");
}

}  // namespace
}  // namespace recur
