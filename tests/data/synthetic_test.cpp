// The synthetic task generators: deterministic, and equal to their defining equations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "expect_error.h"
#include "recur/data/synthetic.h"

namespace recur {
namespace {

TEST(Narma10, FollowsItsRecurrenceAndIsDeterministic) {
  const Narma10 a = narma10(500, 4), b = narma10(500, 4), c = narma10(500, 5);
  EXPECT_EQ(a.u, b.u);
  EXPECT_EQ(a.y, b.y);
  EXPECT_NE(a.u, c.u);
  for (double u : a.u) EXPECT_TRUE(u >= 0 && u < 0.5);
  // y[t] is y(t+1); check the equation at a step with a full history.
  for (int64_t t : {20, 137, 499}) {
    double sum = 0;
    for (int i = 0; i < 10; ++i) sum += a.y[size_t(t - 1 - i)];
    const double yt = a.y[size_t(t - 1)];
    EXPECT_DOUBLE_EQ(a.y[size_t(t)],
                     0.3 * yt + 0.05 * yt * sum + 1.5 * a.u[size_t(t - 9)] * a.u[size_t(t)] + 0.1);
  }
  EXPECT_DOUBLE_EQ(a.y[0], 0.1);  // y(1) from a zero history
  EXPECT_RECUR_ERROR(narma10(0, 1), "must be >= 1");
}

TEST(MackeyGlass, IsChaoticButBoundedAndConvergesInTheStep) {
  const std::vector<double> s = mackey_glass(2000);
  EXPECT_EQ(s, mackey_glass(2000));
  const auto [lo, hi] = std::minmax_element(s.begin(), s.end());
  EXPECT_GT(*lo, 0.2);  // the attractor of tau = 17 lives in about [0.4, 1.35]
  EXPECT_LT(*hi, 1.5);
  EXPECT_GT(*hi - *lo, 0.7);
  // Halving the step changes the first 100 samples by about 1e-5, far less than their spread
  // (the delayed values at half steps are interpolated, which makes the method second order).
  MackeyGlassOptions fine;
  fine.subdivisions = 20;
  MackeyGlassOptions coarse;
  coarse.discard = 0;
  fine.discard = 0;
  const std::vector<double> a = mackey_glass(100, coarse), b = mackey_glass(100, fine);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4) << "sample " << i;
  MackeyGlassOptions bad;
  bad.tau = 17.05;
  EXPECT_RECUR_ERROR(mackey_glass(10, bad), "is not a multiple of the step");
}

TEST(AddingProblem, TwoMarkersOneInEachHalfAndTheirSum) {
  Rng rng(3);
  const int64_t T = 11, N = 50;
  const AddingBatch b = adding_problem(T, N, rng);
  ASSERT_EQ(b.x.shape, Shape({T, N, 2}));
  for (int64_t n = 0; n < N; ++n) {
    int first = 0, second = 0;
    double sum = 0;
    for (int64_t t = 0; t < T; ++t) {
      const float v = b.x[(t * N + n) * 2], m = b.x[(t * N + n) * 2 + 1];
      EXPECT_TRUE(v >= 0 && v < 1);
      ASSERT_TRUE(m == 0 || m == 1);
      if (m == 1) (t < T / 2 ? first : second) += 1, sum += v;
    }
    EXPECT_EQ(first, 1);
    EXPECT_EQ(second, 1);
    EXPECT_FLOAT_EQ(b.y[size_t(n)], float(sum));
  }
  EXPECT_RECUR_ERROR(adding_problem(1, 1, rng), "T >= 2");
}

TEST(CopyTask, RecallsTheFirstTenSymbolsAfterTheDelimiter) {
  Rng rng(4);
  const int64_t T = 7, N = 5, L = T + 20, V = CopyBatch::kInputs;
  const CopyBatch b = copy_task(T, N, rng);
  ASSERT_EQ(b.x.shape, Shape({L, N, V}));
  for (int64_t n = 0; n < N; ++n) {
    std::vector<int64_t> tokens;
    for (int64_t t = 0; t < L; ++t) {
      int64_t hot = -1, count = 0;
      for (int64_t v = 0; v < V; ++v)
        if (b.x[(t * N + n) * V + v] == 1) hot = v, ++count;
      ASSERT_EQ(count, 1);
      tokens.push_back(hot);
    }
    for (int64_t t = 0; t < 10; ++t) {
      EXPECT_GE(tokens[size_t(t)], 1);
      EXPECT_LE(tokens[size_t(t)], 8);
      EXPECT_EQ(b.target[size_t((T + 10 + t) * N + n)], tokens[size_t(t)]);
    }
    for (int64_t t = 10; t < L; ++t) EXPECT_EQ(tokens[size_t(t)], t == T + 9 ? 9 : 0) << t;
    for (int64_t t = 0; t < T + 10; ++t) EXPECT_EQ(b.target[size_t(t * N + n)], 0);
  }
}

}  // namespace
}  // namespace recur
