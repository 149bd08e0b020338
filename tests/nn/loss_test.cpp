// Softmax cross-entropy: known values, stability, finite-difference gradients with ignored rows,
// target errors; softmax and log-softmax rows.
#include "recur/nn/loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "gradcheck.h"
#include "recur/core/rng.h"

namespace recur {
namespace {

using testing::expect_grad_matches;
using testing::fill_uniform;

TEST(SoftmaxCrossEntropy, KnownValues) {
  // Row 0: -log softmax([1,2,3])[2] = log(1 + e^-1 + e^-2); row 1: uniform logits give log V.
  const std::vector<double> logits = {1, 2, 3, 0.5, 0.5, 0.5};
  const std::vector<int64_t> targets = {2, 0};
  const double row0 = std::log(1 + std::exp(-1.0) + std::exp(-2.0)), row1 = std::log(3.0);
  EXPECT_NEAR(softmax_cross_entropy<double>(nullptr, logits.data(), targets.data(), 2, 3),
              (row0 + row1) / 2, 1e-15);
  const std::vector<float> logits_f(logits.begin(), logits.end());
  EXPECT_NEAR(softmax_cross_entropy<float>(nullptr, logits_f.data(), targets.data(), 2, 3),
              (row0 + row1) / 2, 1e-6);
}

TEST(SoftmaxCrossEntropy, StableForLargeLogits) {
  const std::vector<float> logits = {1000.f, 0.f, -1000.f, 88.f, 89.f, 90.f};
  const std::vector<int64_t> targets = {0, 2};
  std::vector<float> d(6);
  const float loss = softmax_cross_entropy(d.data(), logits.data(), targets.data(), 2, 3);
  EXPECT_NEAR(loss, std::log(1 + std::exp(-1.0) + std::exp(-2.0)) / 2, 1e-6);
  for (float g : d) EXPECT_TRUE(std::isfinite(g));
}

TEST(SoftmaxCrossEntropy, GradientMatchesFiniteDifferencesWithIgnoredRows) {
  const int64_t N = 5, V = 4;
  Rng rng(21);
  Tensor<double> logits({N, V});
  fill_uniform(logits, rng, -3, 3);
  for (int64_t ignore : {int64_t(-1), int64_t(0)}) {  // -1 (default) and a pad class inside [0, V)
    const std::vector<int64_t> targets = {1, ignore, 3, 2, ignore};
    auto loss = [&] {
      return softmax_cross_entropy<double>(nullptr, logits.ptr(), targets.data(), N, V, ignore);
    };
    Tensor<double> d({N, V}, 7.0);  // dirty: dlogits is assigned, ignored rows included
    const double value = softmax_cross_entropy(d.ptr(), logits.ptr(), targets.data(), N, V, ignore);
    EXPECT_DOUBLE_EQ(value, loss());
    expect_grad_matches("dlogits ignore=" + std::to_string(ignore), logits, d, loss);
    for (int64_t v = 0; v < V; ++v) {
      EXPECT_EQ(d[1 * V + v], 0.0);
      EXPECT_EQ(d[4 * V + v], 0.0);
    }
    // The mean is over the 3 kept rows: each kept row's gradient sums to zero, its target entry
    // is (p - 1) / 3.
    double mean = 0;
    for (int64_t n : {0, 2, 3}) {
      double s = 0;
      for (int64_t v = 0; v < V; ++v) s += d[n * V + v];
      EXPECT_NEAR(s, 0.0, 1e-15);
      std::vector<double> p(V);
      softmax(p.data(), logits.ptr() + n * V, 1, V);
      EXPECT_NEAR(d[n * V + targets[n]], (p[targets[n]] - 1) / 3, 1e-15);
      mean += -std::log(p[targets[n]]) / 3;
    }
    EXPECT_NEAR(value, mean, 1e-14);
  }
}

TEST(SoftmaxCrossEntropy, AllRowsIgnoredGivesZero) {
  const std::vector<double> logits = {1, 2, 3, 4};
  const std::vector<int64_t> targets = {-1, -1};
  std::vector<double> d(4, 5.0);
  EXPECT_EQ(softmax_cross_entropy(d.data(), logits.data(), targets.data(), 2, 2), 0.0);
  for (double g : d) EXPECT_EQ(g, 0.0);
}

TEST(SoftmaxCrossEntropy, OutOfRangeTargetThrowsNamingRow) {
  const std::vector<float> logits(9, 0.f);
  for (int64_t bad : {int64_t(3), int64_t(-2)}) {
    const std::vector<int64_t> targets = {0, bad, 1};
    try {
      softmax_cross_entropy<float>(nullptr, logits.data(), targets.data(), 3, 3);
      FAIL() << "expected recur::Error for target " << bad;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("row 1"), std::string::npos) << msg;
      EXPECT_NE(msg.find("target " + std::to_string(bad)), std::string::npos) << msg;
    }
  }
}

TEST(Softmax, RowsSumToOneAndMatchLogSoftmax) {
  const int64_t N = 3, V = 6;
  Rng rng(4);
  Tensor<double> z({N, V});
  fill_uniform(z, rng, -20, 20);
  z[0] = 700;  // exp would overflow without the max shift
  Tensor<double> p({N, V}), lp({N, V});
  softmax(p.ptr(), z.ptr(), N, V);
  log_softmax(lp.ptr(), z.ptr(), N, V);
  for (int64_t n = 0; n < N; ++n) {
    double s = 0;
    for (int64_t v = 0; v < V; ++v) {
      s += p[n * V + v];
      EXPECT_NEAR(std::exp(lp[n * V + v]), p[n * V + v], 1e-15);
      EXPECT_LE(lp[n * V + v], 0.0);
    }
    EXPECT_NEAR(s, 1.0, 1e-14);
  }
  // In place gives the same values.
  Tensor<double> q = z;
  softmax(q.ptr(), q.ptr(), N, V);
  EXPECT_EQ(q.data, p.data);
  q = z;
  log_softmax(q.ptr(), q.ptr(), N, V);
  EXPECT_EQ(q.data, lp.data);
}

}  // namespace
}  // namespace recur
