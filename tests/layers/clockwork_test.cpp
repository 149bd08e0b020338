// Clockwork RNN: finite-difference gradients (double) of every parameter, the input and h0; one
// module of period 1 is exactly the tanh RNN; slow modules hold their state between ticks; the
// multiply-add count of the skipped modules.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/layers/clockwork.h"
#include "recur/layers/rnn.h"

namespace recur {
namespace {

using testing::expect_grad_matches;
using testing::fill_uniform;

TEST(Clockwork, GradientsMatchFiniteDifferences) {
  ClockworkConfig c{3, 6, {1, 2, 3}};
  ClockworkParams<double> p(c);
  Rng rng(4);
  init_clockwork(p, rng);
  for (auto& [n, t] : p.named())
    for (auto& v : t->data) v *= 2.5;
  const int64_t T = 7, B = 2;
  Tensor<double> x({T, B, 3}), h0({B, 6}), gy({T, B, 6}), gh({B, 6});
  for (auto* t : {&x, &h0, &gy, &gh}) fill_uniform(*t, rng);
  auto loss = [&] {
    Tensor<double> y, hT;
    ClockworkCache<double> cache;
    clockwork_forward(y, hT, cache, p, x, &h0);
    double l = 0;
    for (int64_t i = 0; i < y.numel(); ++i) l += y[i] * gy[i];
    for (int64_t i = 0; i < hT.numel(); ++i) l += hT[i] * gh[i];
    return l;
  };
  Tensor<double> y, hT, dx, dh0;
  ClockworkCache<double> cache;
  clockwork_forward(y, hT, cache, p, x, &h0);
  ClockworkParams<double> grads(c);
  clockwork_backward(dx, dh0, grads, cache, p, gy, &gh);
  auto pn = p.named();
  auto gn = grads.named();
  for (size_t i = 0; i < pn.size(); ++i) expect_grad_matches(pn[i].first, *pn[i].second, *gn[i].second, loss);
  expect_grad_matches("input", x, dx, loss);
  expect_grad_matches("h0", h0, dh0, loss);
  // The unused block-lower entries get no gradient: module 2 (rows 4, 5) reads only units 4, 5.
  for (int64_t r = 4; r < 6; ++r)
    for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(grads.w_hh[r * 6 + j], 0.0);
}

TEST(Clockwork, OneModuleOfPeriodOneIsTheTanhRnn) {
  ClockworkConfig c{2, 5, {1}};
  ClockworkParams<double> p(c);
  Rng rng(9);
  init_clockwork(p, rng);
  RnnConfig rc;
  rc.cell = CellKind::rnn_tanh;
  rc.input_size = 2;
  rc.hidden_size = 5;
  RnnParams<double> r(rc);
  r.cells[0].w_ih = p.w_ih;
  r.cells[0].w_hh = p.w_hh;
  r.cells[0].b_ih = p.bias;
  Tensor<double> x({6, 3, 2});
  fill_uniform(x, rng);
  Tensor<double> y1, hT, y2;
  ClockworkCache<double> cache;
  clockwork_forward(y1, hT, cache, p, x, nullptr);
  RnnState<double> fin;
  RnnCache<double> rcache;
  rnn_forward(y2, fin, rcache, r, x, {}, nullptr);
  for (int64_t i = 0; i < y1.numel(); ++i) EXPECT_NEAR(y1[i], y2[i], 1e-14);
}

TEST(Clockwork, SlowModulesHoldTheirStateBetweenTicks) {
  ClockworkConfig c{2, 4, {1, 4}};
  ClockworkParams<double> p(c);
  Rng rng(2);
  init_clockwork(p, rng);
  Tensor<double> x({9, 1, 2});
  fill_uniform(x, rng);
  Tensor<double> y, hT;
  ClockworkCache<double> cache;
  clockwork_forward(y, hT, cache, p, x, nullptr);
  // Module 1 (units 2, 3, period 4) changes at t = 0, 4, 8 only.
  for (int64_t t = 1; t < 9; ++t)
    for (int64_t j = 2; j < 4; ++j) {
      if (t % 4 == 0) EXPECT_NE(y[t * 4 + j], y[(t - 1) * 4 + j]) << t;
      else EXPECT_EQ(y[t * 4 + j], y[(t - 1) * 4 + j]) << t;
    }
  // The fast module changes every step.
  for (int64_t t = 1; t < 9; ++t) EXPECT_NE(y[t * 4], y[(t - 1) * 4]);
}

TEST(Clockwork, CountsOnlyActiveModules) {
  // The seeds' example: 256 units in 4 modules of 64 with periods 1, 2, 4, 8, no input.
  ClockworkConfig c{1, 256, {1, 2, 4, 8}};
  const double per_step = clockwork_forward_macs(c, 8, 1) / 8;
  // Average over the 8-step cycle: 64 * (1*(1+256) + (1/2)(1+192) + (1/4)(1+128) + (1/8)(1+64)).
  EXPECT_NEAR(per_step, 64 * (257 + 193 / 2.0 + 129 / 4.0 + 65 / 8.0), 1e-9);
  EXPECT_NEAR(256.0 * 257 / per_step, 2.6, 0.05);  // a full RNN's cost over the clockwork's
}

TEST(Clockwork, BadConfigurationsAreRefused) {
  EXPECT_RECUR_ERROR(ClockworkParams<double>(ClockworkConfig{2, 10, {1, 2, 4}}), "not a multiple of the 3 modules");
  EXPECT_RECUR_ERROR(ClockworkParams<double>(ClockworkConfig{2, 8, {2, 2}}), "strictly increasing");
  EXPECT_RECUR_ERROR(ClockworkParams<double>(ClockworkConfig{2, 8, {}}), "at least one module");
  ClockworkParams<double> p(ClockworkConfig{2, 4, {1, 2}});
  Tensor<double> y, hT;
  ClockworkCache<double> cache;
  EXPECT_RECUR_ERROR(clockwork_forward(y, hT, cache, p, Tensor<double>({3, 1, 5}), nullptr),
                     "expected (T, B, 2)");
}

}  // namespace
}  // namespace recur
