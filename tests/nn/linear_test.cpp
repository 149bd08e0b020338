// Linear layer: forward against loops, finite-difference gradients, optional outputs, accumulation.
#include "recur/nn/linear.h"

#include <gtest/gtest.h>

#include <vector>

#include "gradcheck.h"
#include "recur/core/rng.h"

namespace recur {
namespace {

using testing::expect_grad_matches;
using testing::fill_uniform;

TEST(Linear, ForwardMatchesLoopsFloat) {
  const int64_t N = 5, I = 7, O = 3;
  Rng rng(3);
  Tensor<float> x({N, I}), W({O, I}), b({O}), y({N, O});
  for (auto* t : {&x, &W, &b})
    for (auto& v : t->data) v = float(rng.uniform(-1, 1));
  linear_forward(y.ptr(), x.ptr(), W.ptr(), b.ptr(), N, I, O);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t o = 0; o < O; ++o) {
      double ref = b[o];
      for (int64_t i = 0; i < I; ++i) ref += double(x[n * I + i]) * W[o * I + i];
      EXPECT_NEAR(y[n * O + o], ref, 1e-5);
    }
  }
  // No bias.
  linear_forward(y.ptr(), x.ptr(), W.ptr(), static_cast<const float*>(nullptr), N, I, O);
  double ref = 0;
  for (int64_t i = 0; i < I; ++i) ref += double(x[i]) * W[i];
  EXPECT_NEAR(y[0], ref, 1e-5);
}

TEST(Linear, GradientsMatchFiniteDifferences) {
  const int64_t N = 4, I = 5, O = 3;
  Rng rng(5);
  Tensor<double> x({N, I}), W({O, I}), b({O}), R({N, O});
  for (auto* t : {&x, &W, &b, &R}) fill_uniform(*t, rng);
  auto loss = [&] {  // loss = sum(y * R), so dy = R
    Tensor<double> y({N, O});
    linear_forward(y.ptr(), x.ptr(), W.ptr(), b.ptr(), N, I, O);
    double s = 0;
    for (int64_t i = 0; i < y.numel(); ++i) s += y[i] * R[i];
    return s;
  };
  Tensor<double> dx({N, I}, 123.0), dW({O, I}), db({O});  // dx starts dirty: it is assigned
  linear_backward(dx.ptr(), dW.ptr(), db.ptr(), R.ptr(), x.ptr(), W.ptr(), N, I, O);
  expect_grad_matches("dx", x, dx, loss);
  expect_grad_matches("dW", W, dW, loss);
  expect_grad_matches("db", b, db, loss);
}

TEST(Linear, ParameterGradientsAccumulateAndDxIsOptional) {
  const int64_t N = 3, I = 2, O = 2;
  Rng rng(9);
  Tensor<double> x({N, I}), W({O, I}), dy({N, O});
  for (auto* t : {&x, &W, &dy}) fill_uniform(*t, rng);
  Tensor<double> dW1({O, I}), db1({O}), dx1({N, I});
  linear_backward(dx1.ptr(), dW1.ptr(), db1.ptr(), dy.ptr(), x.ptr(), W.ptr(), N, I, O);
  Tensor<double> dW2 = dW1, db2 = db1;
  linear_backward(static_cast<double*>(nullptr), dW2.ptr(), db2.ptr(), dy.ptr(), x.ptr(), W.ptr(),
                  N, I, O);
  for (int64_t i = 0; i < dW1.numel(); ++i) EXPECT_NEAR(dW2[i], 2 * dW1[i], 1e-12);
  for (int64_t i = 0; i < db1.numel(); ++i) EXPECT_NEAR(db2[i], 2 * db1[i], 1e-12);
  // No bias gradient requested: dW still accumulates.
  Tensor<double> dW3({O, I});
  linear_backward(static_cast<double*>(nullptr), dW3.ptr(), static_cast<double*>(nullptr), dy.ptr(),
                  x.ptr(), W.ptr(), N, I, O);
  for (int64_t i = 0; i < dW1.numel(); ++i) EXPECT_DOUBLE_EQ(dW3[i], dW1[i]);
}

}  // namespace
}  // namespace recur
