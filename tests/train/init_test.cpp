// Initialisers: orthogonality (square, tall, wide), uniform and Xavier ranges, identity, seeding.
#include "recur/train/init.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace recur {
namespace {

// max |(A^T A or A A^T) - gain^2 I| over the smaller Gram matrix of a (rows, cols) tensor.
template <class T>
double orthogonality_error(const Tensor<T>& t, double gain) {
  const int64_t rows = t.dim(0), cols = t.dim(1);
  const bool wide = rows < cols;
  const int64_t k = wide ? rows : cols, len = wide ? cols : rows;
  double worst = 0;
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = 0; j < k; ++j) {
      double dot = 0;
      for (int64_t l = 0; l < len; ++l) {
        dot += wide ? double(t[i * cols + l]) * t[j * cols + l]
                    : double(t[l * cols + i]) * t[l * cols + j];
      }
      worst = std::max(worst, std::abs(dot - (i == j ? gain * gain : 0.0)));
    }
  }
  return worst;
}

TEST(InitOrthogonal, SquareTallAndWideAreOrthogonal) {
  Rng rng(1);
  for (const Shape& shape : {Shape{32, 32}, Shape{64, 16}, Shape{16, 48}, Shape{1, 5}}) {
    Tensor<float> w(shape);
    init_orthogonal(w, rng);
    EXPECT_LT(orthogonality_error(w, 1.0), 1e-5) << shape_str(shape);
    Tensor<double> wd(shape);
    init_orthogonal(wd, rng, 2.0);
    EXPECT_LT(orthogonality_error(wd, 2.0), 1e-12) << shape_str(shape);
  }
}

TEST(InitOrthogonal, SameSeedSameWeightsAndRankCheck) {
  Tensor<float> a({8, 4}), b({8, 4});
  Rng r1(42), r2(42);
  init_orthogonal(a, r1);
  init_orthogonal(b, r2);
  EXPECT_EQ(a.data, b.data);
  Tensor<float> v({4});
  EXPECT_THROW(init_orthogonal(v, r1), Error);
}

TEST(InitUniform, StaysInRangeAndFillsIt) {
  Rng rng(2);
  const float a = 1.f / std::sqrt(64.f);  // PyTorch RNN default for H = 64
  Tensor<float> w({64, 256});
  init_uniform(w, rng, a);
  const auto [lo, hi] = std::minmax_element(w.data.begin(), w.data.end());
  EXPECT_GE(*lo, -a);
  EXPECT_LE(*hi, a);
  EXPECT_LT(*lo, -0.99f * a);
  EXPECT_GT(*hi, 0.99f * a);
  double mean = 0;
  for (float v : w.data) mean += v;
  EXPECT_NEAR(mean / double(w.numel()), 0.0, 0.01 * a * 10);
  EXPECT_THROW(init_uniform(w, rng, -1.f), Error);
}

TEST(InitXavierUniform, BoundFromFans) {
  Rng rng(3);
  Tensor<double> w({30, 70});
  init_xavier_uniform(w, rng, 2.0);
  const double bound = 2.0 * std::sqrt(6.0 / (30 + 70));
  const auto [lo, hi] = std::minmax_element(w.data.begin(), w.data.end());
  EXPECT_GE(*lo, -bound);
  EXPECT_LE(*hi, bound);
  EXPECT_LT(*lo, -0.98 * bound);
  EXPECT_GT(*hi, 0.98 * bound);
}

TEST(InitIdentity, DiagonalOfScale) {
  Tensor<float> w({3, 4}, 9.f);
  init_identity(w, 0.5f);
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t c = 0; c < 4; ++c) EXPECT_EQ(w[r * 4 + c], r == c ? 0.5f : 0.f);
  Tensor<float> v({3});
  EXPECT_THROW(init_identity(v), Error);
}

}  // namespace
}  // namespace recur
