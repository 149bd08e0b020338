// SequenceModel (embedding -> RNN -> linear -> cross-entropy): gradients against finite differences,
// and training on a task that needs memory.
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"
#include "recur/models/sequence_model.h"
#include "recur/train/clip.h"
#include "recur/train/optimizer.h"

namespace recur {
namespace {

SequenceModelConfig small_config(CellKind cell, int64_t vocab, int64_t hidden, int layers = 1) {
  SequenceModelConfig c;
  c.vocab = c.outputs = vocab;
  c.embed = 5;
  c.rnn.cell = cell;
  c.rnn.input_size = 5;
  c.rnn.hidden_size = hidden;
  c.rnn.num_layers = layers;
  return c;
}

// Whole-model gradient check in double, over a second window that starts from the first window's
// carried state (truncated BPTT), with some targets ignored.
TEST(SequenceModel, GradientsMatchFiniteDifferences) {
  for (CellKind cell : {CellKind::lstm, CellKind::gru}) {
    SequenceModel<double> m(small_config(cell, 7, 4, 2));
    Rng rng(5);
    init_sequence_model(m, rng);
    const int64_t T = 4, B = 2;
    std::vector<int64_t> tokens(T * B), targets(T * B);
    for (auto& t : tokens) t = int64_t(rng.below(7));
    for (auto& t : targets) t = int64_t(rng.below(7));
    targets[3] = -1;
    RnnState<double> carried;
    sequence_model_window<double>(m, nullptr, tokens, targets, T, B, carried, {});
    SequenceModel<double> g(m.config);
    RnnState<double> s = carried;
    sequence_model_window(m, &g, tokens, targets, T, B, s, {});
    auto loss = [&] {
      RnnState<double> s2 = carried;
      return sequence_model_window<double>(m, nullptr, tokens, targets, T, B, s2, {});
    };
    auto pn = m.named();
    auto gn = g.named();
    for (size_t i = 0; i < pn.size(); ++i)
      testing::expect_grad_matches(std::string(cell_name(cell)) + "." + pn[i].first,
                                   *pn[i].second, *gn[i].second, loss);
  }
}

// Echo: the target at step t is the input symbol from k = 4 steps back. A model without memory can
// do no better than chance, ln(8) = 2.08 nats; an LSTM must get below 0.05 nats within 600 Adam steps
// (it typically reaches ~0.005; the bound leaves 10x room for platform differences).
TEST(SequenceModel, LstmLearnsToEchoFourStepsBack) {
  const int64_t V = 8, K = 4, T = 20, B = 16;
  SequenceModel<float> m(small_config(CellKind::lstm, V, 32));
  Rng rng(11);
  init_sequence_model(m, rng);
  SequenceModel<float> g(m.config);
  OptimizerConfig oc;
  oc.kind = OptimizerKind::kAdam;
  oc.lr = 1e-2;
  Optimizer<float> opt(oc);
  auto params = param_list(m, g);
  float loss = 0;
  for (int step = 0; step < 600; ++step) {
    std::vector<int64_t> tokens(T * B), targets(T * B, -1);
    for (auto& t : tokens) t = int64_t(rng.below(V));
    for (int64_t t = K; t < T; ++t)
      for (int64_t b = 0; b < B; ++b) targets[t * B + b] = tokens[(t - K) * B + b];
    zero_grads(params);
    RnnState<float> state;
    loss = sequence_model_window(m, &g, tokens, targets, T, B, state, {});
    clip_grad_norm(params, 5.0f);
    opt.step(params);
  }
  EXPECT_LT(loss, 0.05f) << "chance is " << std::log(float(V));
}

// Same seed, same run: 20 steps of training with dropout from the same seed give bit-identical
// weights; another seed gives different ones.
TEST(SequenceModel, SameSeedGivesBitIdenticalTraining) {
  auto train = [](uint64_t seed) {
    SequenceModelConfig cfg = small_config(CellKind::gru, 9, 12, 2);
    cfg.rnn.dropout = 0.3;
    SequenceModel<float> m(cfg);
    Rng rng(seed);
    init_sequence_model(m, rng);
    SequenceModel<float> g(cfg);
    OptimizerConfig oc;
    oc.kind = OptimizerKind::kAdamW;
    oc.weight_decay = 0.01;
    Optimizer<float> opt(oc);
    auto params = param_list(m, g);
    RnnState<float> state;
    for (int step = 0; step < 20; ++step) {
      std::vector<int64_t> tokens(8 * 4), targets(8 * 4);
      for (auto& t : tokens) t = int64_t(rng.below(9));
      for (auto& t : targets) t = int64_t(rng.below(9));
      zero_grads(params);
      sequence_model_window(m, &g, tokens, targets, 8, 4, state, {true, &rng});
      opt.step(params);
    }
    return m.state_dict();
  };
  const auto a = train(3), b = train(3), c = train(4);
  for (const auto& [name, t] : a) {
    EXPECT_EQ(t.data, b.at(name).data) << name;
    EXPECT_NE(t.data, c.at(name).data) << name;
  }
}

}  // namespace
}  // namespace recur
