// RTRL computes, forward in time, the same gradients BPTT computes backwards: equal to 1e-9 in
// double for every supported cell, from a zero or a given state; and online learning with it learns.
#include <gtest/gtest.h>

#include <cmath>

#include "expect_error.h"
#include "recur/core/rng.h"
#include "recur/layers/rnn.h"
#include "recur/train/rtrl.h"

namespace recur {
namespace {

struct RtrlCase {
  CellKind cell;
  bool given_state;
};

class RtrlEqualsBptt : public ::testing::TestWithParam<RtrlCase> {};

TEST_P(RtrlEqualsBptt, GradientsAndOutputs) {
  const RtrlCase tc = GetParam();
  const int64_t T = 12, B = 2, I = 3, H = 5;
  RnnConfig cfg;
  cfg.cell = tc.cell;
  cfg.input_size = I;
  cfg.hidden_size = H;
  RnnParams<double> params(cfg);
  Rng rng(17);
  init_rnn_uniform(params, rng);
  // Larger weights than the default so the nonlinearities are exercised well away from zero.
  for (auto& [name, t] : params.named())
    for (auto& v : t->data) v *= 2.5;
  Tensor<double> x({T, B, I}), dy({T, B, H}), dh_final({1, B, H}), dc_final({1, B, H});
  for (auto* t : {&x, &dy, &dh_final, &dc_final})
    for (auto& v : t->data) v = rng.normal();
  const bool lstm = cfg.has_cell_state();
  RnnState<double> init;
  if (tc.given_state) {
    init.h = Tensor<double>({1, B, H});
    for (auto& v : init.h.data) v = rng.uniform(-0.8, 0.8);
    if (lstm) {
      init.c = Tensor<double>({1, B, H});
      for (auto& v : init.c.data) v = rng.normal();
    }
  }

  // BPTT.
  Tensor<double> y, dx;
  RnnState<double> fin, dinit;
  RnnCache<double> cache;
  rnn_forward(y, fin, cache, params, x, {}, tc.given_state ? &init : nullptr);
  RnnParams<double> bptt(cfg);
  const RnnState<double> dfin{dh_final, lstm ? dc_final : Tensor<double>()};
  rnn_backward(dx, dinit, bptt, cache, params, dy, &dfin);

  // RTRL: forward only, the gradient of each step's loss added as the step is taken.
  Rtrl<double> rtrl(params, B);
  if (tc.given_state) rtrl.set_state(init.h.ptr(), lstm ? init.c.ptr() : nullptr);
  RnnParams<double> online(cfg);
  std::vector<double> h(static_cast<size_t>(B * H));
  for (int64_t t = 0; t < T; ++t) {
    rtrl.step(x.ptr() + t * B * I, h.data());
    for (int64_t i = 0; i < B * H; ++i) EXPECT_NEAR(h[size_t(i)], y[t * B * H + i], 1e-12);
    rtrl.accumulate(dy.ptr() + t * B * H, nullptr, online.cells[0]);
  }
  rtrl.accumulate(dh_final.ptr(), lstm ? dc_final.ptr() : nullptr, online.cells[0]);

  const auto a = bptt.named(), b = online.named();
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k)
    for (int64_t i = 0; i < a[k].second->numel(); ++i)
      EXPECT_NEAR((*b[k].second)[i], (*a[k].second)[i], 1e-9) << a[k].first << "[" << i << "]";
  const int64_t G = cfg.gates();
  EXPECT_EQ(rtrl.parameter_count(), G * H * (I + H + 2));
  EXPECT_EQ(rtrl.state_bytes(),
            int64_t(sizeof(double)) * B * H * (lstm ? 2 : 1) * (1 + rtrl.parameter_count()));
}

INSTANTIATE_TEST_SUITE_P(
    Cells, RtrlEqualsBptt,
    ::testing::Values(RtrlCase{CellKind::rnn_tanh, false}, RtrlCase{CellKind::rnn_tanh, true},
                      RtrlCase{CellKind::rnn_relu, false}, RtrlCase{CellKind::rnn_sigmoid, true},
                      RtrlCase{CellKind::lstm, false}, RtrlCase{CellKind::lstm, true}),
    [](const auto& info) {
      return std::string(cell_name(info.param.cell)) + (info.param.given_state ? "_given_state" : "");
    });

TEST(Rtrl, RefusesWhatItDoesNotSupport) {
  RnnConfig cfg;
  cfg.cell = CellKind::gru;
  cfg.input_size = 2;
  cfg.hidden_size = 3;
  EXPECT_RECUR_ERROR(Rtrl<double>(RnnParams<double>(cfg), 1), "not the GRU");
  cfg.cell = CellKind::lstm;
  cfg.num_layers = 2;
  EXPECT_RECUR_ERROR(Rtrl<double>(RnnParams<double>(cfg), 1), "one unidirectional layer");
  cfg.num_layers = 1;
  cfg.peephole = true;
  EXPECT_RECUR_ERROR(Rtrl<double>(RnnParams<double>(cfg), 1), "plain LSTM");
}

TEST(Rtrl, OnlineLearningLearnsADelayLine) {
  // y_t = x_{t-2}: the layer has to remember two steps. Updated after every step, no history.
  RtrlOnlineOptions o;
  o.cell = CellKind::rnn_tanh;
  o.hidden = 8;
  o.delay = 2;
  o.steps = 6000;
  o.lr = 0.05;
  const RtrlOnlineResult r = rtrl_online_delay(o);
  ASSERT_EQ(r.window_mse.size(), size_t(6000 / o.window));
  // The target's variance is 1/3 (uniform in [-1, 1]): a net that learned nothing scores about 0.33.
  EXPECT_GT(r.window_mse.front(), 0.2);
  EXPECT_LT(r.window_mse.back(), 0.05);
}

}  // namespace
}  // namespace recur
