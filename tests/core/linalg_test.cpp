// recur/core/linalg.h: the LAPACK Cholesky solve and eigenvalues against hand-checkable systems.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "expect_error.h"
#include "recur/core/linalg.h"
#include "recur/core/rng.h"

namespace recur {
namespace {

TEST(Linalg, CholeskySolvesASmallSystem) {
  Tensor<double> G({3, 3}, {4, 2, 0.4, 2, 5, 1, 0.4, 1, 3}), R({3, 2}, {1, 0, 2, 1, 3, -1});
  const Tensor<double> G0 = G, R0 = R;
  cholesky_solve(G, R);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 2; ++j) {
      double s = 0;
      for (int64_t k = 0; k < 3; ++k) s += G0[i * 3 + k] * R[k * 2 + j];
      EXPECT_NEAR(s, R0[i * 2 + j], 1e-12);
    }
  Tensor<double> bad({2, 2}, {1, 2, 2, 1}), r({2, 1}, {1, 1});
  EXPECT_RECUR_ERROR(cholesky_solve(bad, r), "pivot 1 of 2");
  // Singular to working precision: two equal rows.
  Tensor<double> twin({2, 2}, {1, 1, 1, 1}), r2({2, 1}, {1, 1});
  EXPECT_RECUR_ERROR(cholesky_solve(twin, r2), "not positive definite", "pivot 1 of 2");
  Tensor<double> g({2, 2}), wrong({3, 1});
  EXPECT_RECUR_ERROR(cholesky_solve(g, wrong), "expected G (n,n) and R (n,m)");
}

TEST(Linalg, CholeskyMatchesARandomSpdSystem) {
  const int64_t n = 40, m = 3;
  Rng rng(5);
  Tensor<double> A({n, n}), G({n, n}), X({n, m}), R({n, m});
  for (auto& v : A.data) v = rng.normal();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = i == j ? 1.0 : 0.0;
      for (int64_t k = 0; k < n; ++k) s += A[i * n + k] * A[j * n + k];
      G[i * n + j] = s;
    }
  for (auto& v : X.data) v = rng.normal();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < m; ++c) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += G[i * n + k] * X[k * m + c];
      R[i * m + c] = s;
    }
  cholesky_solve(G, R);
  for (int64_t i = 0; i < n * m; ++i) EXPECT_NEAR(R[i], X[i], 1e-8);
}

TEST(Linalg, EigenvaluesOfKnownMatrices) {
  // A rotation by 90 degrees scaled by 2: eigenvalues +-2i, spectral radius 2.
  const Tensor<double> rot({2, 2}, {0, -2, 2, 0});
  auto ev = eigenvalues(rot);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_NEAR(std::abs(ev[0].real()), 0.0, 1e-12);
  EXPECT_NEAR(std::abs(ev[0].imag()), 2.0, 1e-12);
  EXPECT_NEAR(spectral_radius(rot), 2.0, 1e-12);
  // Upper triangular: eigenvalues on the diagonal.
  const Tensor<double> tri({3, 3}, {1, 5, 7, 0, -3, 2, 0, 0, 0.5});
  ev = eigenvalues(tri);
  std::vector<double> re;
  for (auto& l : ev) re.push_back(l.real());
  std::sort(re.begin(), re.end());
  EXPECT_NEAR(re[0], -3, 1e-12);
  EXPECT_NEAR(re[1], 0.5, 1e-12);
  EXPECT_NEAR(re[2], 1, 1e-12);
  EXPECT_NEAR(spectral_radius(tri), 3.0, 1e-12);
  EXPECT_RECUR_ERROR(eigenvalues(Tensor<double>({2, 3})), "expected a square matrix");
}

TEST(Linalg, GramAndCrossEqualPlainLoops) {
  const int64_t T = 7, D = 4, L = 3;
  Rng rng(2);
  Tensor<double> X({T, D}), Y({T, L});
  for (auto& v : X.data) v = rng.normal();
  for (auto& v : Y.data) v = rng.normal();
  const Tensor<double> G = gram(X), C = cross(X, Y);
  ASSERT_EQ(G.shape, Shape({D, D}));
  ASSERT_EQ(C.shape, Shape({D, L}));
  for (int64_t i = 0; i < D; ++i) {
    for (int64_t j = 0; j < D; ++j) {
      double s = 0;
      for (int64_t t = 0; t < T; ++t) s += X[t * D + i] * X[t * D + j];
      EXPECT_NEAR(G[i * D + j], s, 1e-12);
    }
    for (int64_t j = 0; j < L; ++j) {
      double s = 0;
      for (int64_t t = 0; t < T; ++t) s += X[t * D + i] * Y[t * L + j];
      EXPECT_NEAR(C[i * L + j], s, 1e-12);
    }
  }
  EXPECT_RECUR_ERROR(cross(X, Tensor<double>({T + 1, L})), "expected X (T,D) and Y (T,L)");
}

}  // namespace
}  // namespace recur
