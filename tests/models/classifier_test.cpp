// SequenceClassifier: every head and pooling against finite differences (double), padding that
// cannot reach the result, and a short training run on a task that needs the whole sequence.
#include <gtest/gtest.h>

#include <cmath>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/models/classifier.h"
#include "recur/train/optimizer.h"

namespace recur {
namespace {

struct Case {
  std::string name;
  CellKind cell;
  int layers;
  bool bidir;
  ClassifierHead head;
  Pooling pooling;
  bool tokens;
  int64_t dense = 0;  // the output layers: dense ReLU, sigmoid, dropout (fixed masks in gradcheck)
  bool sigmoid = false;
  double input_dropout = 0, head_dropout = 0;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

ClassifierConfig config_for(const Case& k) {
  ClassifierConfig c;
  if (k.tokens) {
    c.vocab = 6;
    c.embed = 3;
  } else {
    c.features = 3;
  }
  c.rnn.cell = k.cell;
  c.rnn.input_size = 3;
  c.rnn.hidden_size = 4;
  c.rnn.num_layers = k.layers;
  c.rnn.bidirectional = k.bidir;
  c.head = k.head;
  c.pooling = k.pooling;
  c.top_hidden = 5;
  c.classes = k.sigmoid ? 2 : 3;
  c.dense = k.dense;
  c.output = k.sigmoid ? ClassifierOutput::sigmoid : ClassifierOutput::softmax;
  c.input_dropout = k.input_dropout;
  c.head_dropout = k.head_dropout;
  return c;
}

ClassifierBatch<double> make_batch(const ClassifierConfig& c, Rng& rng) {
  ClassifierBatch<double> b;
  b.steps = 5;
  b.batch = 3;
  b.lengths = {5, 2, 1};
  b.labels = {c.classes - 1, 0, 1};
  if (c.tokens()) {
    b.tokens.resize(15);
    for (auto& t : b.tokens) t = int64_t(rng.below(uint64_t(c.vocab)));
  } else {
    b.values = Tensor<double>({5, 3, c.features});
    for (auto& v : b.values.data) v = rng.uniform(-1, 1);
  }
  return b;
}

class ClassifierGradcheck : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifierGradcheck, AllGradientsMatchFiniteDifferences) {
  const Case k = GetParam();
  SequenceClassifier<double> m(config_for(k));
  Rng rng(9);
  init_classifier(m, rng);
  for (auto& [n, t] : m.named())  // larger weights: the nonlinearities away from their linear part
    for (auto& v : t->data) v *= 2.0;
  ClassifierBatch<double> batch = make_batch(m.config, rng);
  SequenceClassifier<double> g(m.config);
  // Training mode, the dropout masks drawn alike at every call.
  auto run = [&](SequenceClassifier<double>* grads) {
    Rng masks(21);
    return classifier_batch<double>(m, grads, batch, RnnRunOptions(true, &masks));
  };
  run(&g);
  auto loss = [&] { return run(nullptr); };
  auto pn = m.named();
  auto gn = g.named();
  for (size_t i = 0; i < pn.size(); ++i)
    testing::expect_grad_matches(k.name + "." + pn[i].first, *pn[i].second, *gn[i].second, loss);
}

// Whatever sits in the padding (steps at or past a sequence's length) leaves logits unchanged.
TEST_P(ClassifierGradcheck, PaddingDoesNotReachTheLogits) {
  const Case k = GetParam();
  SequenceClassifier<double> m(config_for(k));
  Rng rng(4);
  init_classifier(m, rng);
  ClassifierBatch<double> batch = make_batch(m.config, rng);
  Tensor<double> a, b;
  classifier_batch<double>(m, nullptr, batch, {}, &a);
  for (int64_t t = 0; t < batch.steps; ++t)
    for (int64_t s = 0; s < batch.batch; ++s) {
      if (t < batch.lengths[size_t(s)]) continue;
      if (m.config.tokens())
        batch.tokens[size_t(t * batch.batch + s)] = (batch.tokens[size_t(t * batch.batch + s)] + 1) % 6;
      else
        for (int64_t j = 0; j < m.config.features; ++j)
          batch.values[(t * batch.batch + s) * m.config.features + j] += 5.0;
    }
  classifier_batch<double>(m, nullptr, batch, {}, &b);
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12) << i;
}

INSTANTIATE_TEST_SUITE_P(
    Heads, ClassifierGradcheck,
    ::testing::Values(
        Case{"lstm_bidir_2layer_last", CellKind::lstm, 2, true, ClassifierHead::pool, Pooling::last, true},
        Case{"gru_mean", CellKind::gru, 1, false, ClassifierHead::pool, Pooling::mean, true},
        Case{"rnn_bidir_max", CellKind::rnn_tanh, 1, true, ClassifierHead::pool, Pooling::max, true},
        Case{"textrnn2_bidir_lstm", CellKind::lstm, 1, true, ClassifierHead::textrnn2, Pooling::last, true},
        Case{"rcnn_bidir_gru", CellKind::gru, 1, true, ClassifierHead::rcnn, Pooling::last, true},
        Case{"dense_lstm_last", CellKind::lstm, 1, false, ClassifierHead::pool, Pooling::last, false},
        Case{"dense_rcnn_lstm", CellKind::lstm, 1, true, ClassifierHead::rcnn, Pooling::last, false},
        // The seeds' Keras recipe: dense ReLU layer, sigmoid output, input and head dropout.
        Case{"keras_lstm_dense_sigmoid", CellKind::lstm, 1, false, ClassifierHead::pool, Pooling::last,
             true, 4, true, 0.3, 0.25},
        Case{"rcnn_dense_softmax_dropout", CellKind::gru, 1, true, ClassifierHead::rcnn, Pooling::last,
             true, 3, false, 0.2, 0.2},
        Case{"textrnn1_head_dropout", CellKind::lstm, 1, true, ClassifierHead::pool, Pooling::last,
             false, 0, false, 0, 0.5}),
    [](const auto& info) { return info.param.name; });

TEST(Classifier, RejectsBadBatchesAndConfigs) {
  Case k{"x", CellKind::lstm, 1, false, ClassifierHead::pool, Pooling::last, true};
  SequenceClassifier<double> m(config_for(k));
  Rng rng(1);
  ClassifierBatch<double> batch = make_batch(m.config, rng);
  batch.lengths[1] = 0;
  EXPECT_RECUR_ERROR(classifier_batch<double>(m, nullptr, batch, {}), "has length 0");
  batch.lengths[1] = 6;
  EXPECT_RECUR_ERROR(classifier_batch<double>(m, nullptr, batch, {}), "expected 1..5");
  batch.lengths[1] = 2;
  batch.tokens.pop_back();
  EXPECT_RECUR_ERROR(classifier_batch<double>(m, nullptr, batch, {}), "needs 15 token ids");
  ClassifierConfig bad = m.config;
  bad.classes = 1;
  EXPECT_RECUR_ERROR(bad.validate(), "at least 2 classes");
  bad = m.config;
  bad.features = 3;
  EXPECT_RECUR_ERROR(bad.validate(), "either tokens");
  EXPECT_RECUR_ERROR(parse_pooling("median"), "unknown pooling 'median'");
  bad = m.config;
  bad.output = ClassifierOutput::sigmoid;
  EXPECT_RECUR_ERROR(bad.validate(), "sigmoid output scores 2 classes");
  bad = m.config;
  bad.head_dropout = 1;
  EXPECT_RECUR_ERROR(bad.validate(), "dropout must be in [0, 1)");
  ClassifierConfig round = ClassifierConfig::from_metadata(m.config.to_metadata());
  EXPECT_EQ(round.to_metadata(), m.config.to_metadata());
  // Files from before the dense layer and the sigmoid output read as having neither.
  auto old = m.config.to_metadata();
  for (const char* key : {"dense", "output", "input_dropout", "head_dropout"}) old.erase(key);
  EXPECT_EQ(ClassifierConfig::from_metadata(old).to_metadata(), m.config.to_metadata());
}

// Dropout acts in training only: evaluation equals the same weights without dropout, and a
// training forward with dropout does not.
TEST(Classifier, DropoutOnlyInTraining) {
  Case k{"d", CellKind::lstm, 1, true, ClassifierHead::pool, Pooling::last, true, 4, false, 0.4, 0.4};
  SequenceClassifier<double> m(config_for(k));
  Rng rng(8);
  init_classifier(m, rng);
  SequenceClassifier<double> plain = m;
  plain.config.input_dropout = plain.config.head_dropout = 0;
  const ClassifierBatch<double> batch = make_batch(m.config, rng);
  const double eval = classifier_batch<double>(m, nullptr, batch, {});
  EXPECT_EQ(eval, classifier_batch<double>(plain, nullptr, batch, {}));
  Rng masks(2);
  EXPECT_NE(eval, classifier_batch<double>(m, nullptr, batch, RnnRunOptions(true, &masks)));
  Rng masks2(2);
  EXPECT_EQ(classifier_batch<double>(plain, nullptr, batch, RnnRunOptions(true, &masks2)), eval);
}

// A sigmoid output is binary cross-entropy: its logits are (0, z), and the loss is
// -log sigmoid(z) for class 1 and -log(1 - sigmoid(z)) for class 0.
TEST(Classifier, SigmoidOutputIsBinaryCrossEntropy) {
  Case k{"s", CellKind::gru, 1, false, ClassifierHead::pool, Pooling::mean, true, 3, true};
  SequenceClassifier<double> m(config_for(k));
  Rng rng(3);
  init_classifier(m, rng);
  ClassifierBatch<double> batch = make_batch(m.config, rng);
  Tensor<double> logits;
  const double loss = classifier_batch<double>(m, nullptr, batch, {}, &logits);
  ASSERT_EQ(logits.shape, Shape({3, 2}));
  double bce = 0;
  for (int64_t b = 0; b < 3; ++b) {
    EXPECT_EQ(logits[b * 2], 0.0);
    const double p = 1 / (1 + std::exp(-logits[b * 2 + 1]));
    bce -= std::log(batch.labels[size_t(b)] == 1 ? p : 1 - p) / 3;
  }
  EXPECT_NEAR(loss, bce, 1e-12);
}

// Parity of a token sequence with a distractor-free signal at the start: class = the first token's
// parity, the rest is noise of random length. Chance is ln 2 = 0.69 nats; reading the sequence
// from the far end (the last state of a forward LSTM must carry the first token through up to 11
// steps of noise) a bidirectional LSTM with last pooling gets below 0.05 nats in 300 Adam steps.
TEST(Classifier, BidirectionalLstmLearnsFirstTokenParity) {
  ClassifierConfig c;
  c.vocab = 6;
  c.embed = 8;
  c.rnn.cell = CellKind::lstm;
  c.rnn.input_size = 8;
  c.rnn.hidden_size = 16;
  c.rnn.bidirectional = true;
  c.classes = 2;
  SequenceClassifier<float> m(c), g(c);
  Rng rng(3);
  init_classifier(m, rng);
  OptimizerConfig oc;
  oc.kind = OptimizerKind::kAdam;
  oc.lr = 1e-2;
  Optimizer<float> opt(oc);
  auto params = param_list(m, g);
  float loss = 0;
  for (int step = 0; step < 300; ++step) {
    ClassifierBatch<float> b;
    b.steps = 12;
    b.batch = 16;
    b.tokens.assign(size_t(b.steps * b.batch), 0);
    for (int64_t s = 0; s < b.batch; ++s) {
      b.lengths.push_back(2 + int64_t(rng.below(11)));
      for (int64_t t = 0; t < b.lengths.back(); ++t)
        b.tokens[size_t(t * b.batch + s)] = int64_t(rng.below(6));
      b.labels.push_back(b.tokens[size_t(s)] % 2);
    }
    for (auto& p : params) p.grad->fill(0.0f);
    loss = classifier_batch(m, &g, b, {});
    opt.step(params);
  }
  EXPECT_LT(loss, 0.05f);
}

}  // namespace
}  // namespace recur
