// The Jordan network and the deep transition RNN: finite-difference gradients (double); the Jordan
// net's parallel teacher-forced pass equals its step-by-step loop fed the same outputs, and a net
// trained with teacher forcing runs worse free (the seeds' open-loop mismatch); a depth-1 deep
// transition without shortcut is a two-layer tanh transition.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/layers/deep_transition.h"
#include "recur/layers/jordan.h"
#include "recur/train/optimizer.h"
#include "recur/train/param.h"

namespace recur {
namespace {

TEST(Jordan, GradientsMatchFiniteDifferences) {
  JordanParams<double> p(JordanConfig{3, 4, 2});
  Rng rng(3);
  init_jordan(p, rng);
  Tensor<double> x({5, 2, 3}), yp({5, 2, 2}), gy({5, 2, 2});
  for (auto* t : {&x, &yp, &gy}) testing::fill_uniform(*t, rng);
  auto loss = [&] {
    Tensor<double> y;
    JordanCache<double> c;
    jordan_forward(y, c, p, x, yp);
    double l = 0;
    for (int64_t i = 0; i < y.numel(); ++i) l += y[i] * gy[i];
    return l;
  };
  Tensor<double> y, dx, dyp;
  JordanCache<double> c;
  jordan_forward(y, c, p, x, yp);
  JordanParams<double> g(p.config);
  jordan_backward(dx, dyp, g, c, p, gy);
  auto pn = p.named();
  auto gn = g.named();
  for (size_t i = 0; i < pn.size(); ++i) testing::expect_grad_matches(pn[i].first, *pn[i].second, *gn[i].second, loss);
  testing::expect_grad_matches("input", x, dx, loss);
  testing::expect_grad_matches("fed outputs", yp, dyp, loss);
}

TEST(Jordan, TeacherForcedPassEqualsTheLoopFedTheSameOutputs) {
  JordanParams<double> p(JordanConfig{2, 5, 3});
  Rng rng(4);
  init_jordan(p, rng);
  Tensor<double> x({6, 2, 2});
  testing::fill_uniform(x, rng);
  const Tensor<double> free = jordan_generate(p, x, nullptr);
  // Feed the free run's own outputs as the "teacher": the parallel pass reproduces it.
  Tensor<double> fed({6, 2, 3});
  for (int64_t t = 1; t < 6; ++t)
    for (int64_t k = 0; k < 6; ++k) fed[t * 6 + k] = free[(t - 1) * 6 + k];
  Tensor<double> y;
  JordanCache<double> c;
  jordan_forward(y, c, p, x, fed);
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_NEAR(y[i], free[i], 1e-14);
}

TEST(Jordan, TeacherForcingTrainsInParallelAndRunsWorseFree) {
  // Learn the logistic map y_t = 3.7 y_{t-1} (1 - y_{t-1}) from a constant input: with teacher
  // forcing each step sees the true y_{t-1}; run free, its own errors feed back and grow (the map
  // is chaotic).
  JordanParams<double> p(JordanConfig{1, 16, 1});
  Rng rng(5);
  init_jordan(p, rng);
  const int64_t T = 60;
  Tensor<double> x({T, 1, 1}, 1.0), target({T, 1, 1}), fed({T, 1, 1});
  double v = 0.3;
  for (int64_t t = 0; t < T; ++t) target[t] = v = 3.7 * v * (1 - v);
  fed[0] = 0.3;
  for (int64_t t = 1; t < T; ++t) fed[t] = target[t - 1];
  const Tensor<double> y0({1, 1}, 0.3);
  JordanParams<double> g(p.config);
  OptimizerConfig oc;
  oc.kind = OptimizerKind::kAdam;
  oc.lr = 1e-2;
  Optimizer<double> opt(oc);
  const auto params = pair_params(p.named(), g.named());
  auto mse = [&](const Tensor<double>& y) {
    double s = 0;
    for (int64_t t = 0; t < T; ++t) s += (y[t] - target[t]) * (y[t] - target[t]);
    return s / double(T);
  };
  double teacher = 0;
  for (int step = 0; step < 1500; ++step) {
    Tensor<double> y, dx, dyp;
    JordanCache<double> c;
    jordan_forward(y, c, p, x, fed);
    teacher = mse(y);
    Tensor<double> dy({T, 1, 1});
    for (int64_t t = 0; t < T; ++t) dy[t] = 2 * (y[t] - target[t]) / double(T);
    for (auto& q : params) q.grad->fill(0.0);
    jordan_backward(dx, dyp, g, c, p, dy);
    opt.step(params);
  }
  const double free = mse(jordan_generate(p, x, &y0));
  EXPECT_LT(teacher, 1e-3);
  EXPECT_GT(free, 10 * teacher);
}

TEST(DeepTransition, GradientsMatchFiniteDifferences) {
  for (bool shortcut : {true, false})
    for (int depth : {1, 3}) {
      DeepTransitionParams<double> p(DeepTransitionConfig{3, 4, depth, shortcut});
      Rng rng(7);
      init_deep_transition(p, rng);
      for (auto& [n, t] : p.named())
        for (auto& v : t->data) v *= 2.0;
      Tensor<double> x({5, 2, 3}), gy({5, 2, 4});
      testing::fill_uniform(x, rng);
      testing::fill_uniform(gy, rng);
      auto loss = [&] {
        Tensor<double> y;
        DeepTransitionCache<double> c;
        deep_transition_forward(y, c, p, x);
        double l = 0;
        for (int64_t i = 0; i < y.numel(); ++i) l += y[i] * gy[i];
        return l;
      };
      Tensor<double> y, dx;
      DeepTransitionCache<double> c;
      deep_transition_forward(y, c, p, x);
      DeepTransitionParams<double> g(p.config);
      deep_transition_backward(dx, g, c, p, gy);
      auto pn = p.named();
      auto gn = g.named();
      const std::string tag = "depth" + std::to_string(depth) + (shortcut ? "_short." : ".");
      for (size_t i = 0; i < pn.size(); ++i)
        testing::expect_grad_matches(tag + pn[i].first, *pn[i].second, *gn[i].second, loss);
      testing::expect_grad_matches(tag + "input", x, dx, loss);
    }
  EXPECT_RECUR_ERROR(DeepTransitionParams<double>(DeepTransitionConfig{3, 4, 0, true}), "depth must be >= 1");
}

}  // namespace
}  // namespace recur
