// bf16 (kernels/cpu/bf16.h): rounding to nearest even with NaN and infinities kept, and the mixed-
// precision GEMM against the reference GEMM on the rounded operands, for every transpose, alpha,
// beta and strided layout (the products must agree to float accumulation error), plus a check that
// the rounding really happens (the result differs from the fp32 product).
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "expect_error.h"
#include "kernels/cpu/bf16.h"
#include "kernels/cpu/simd.h"
#include "recur/core/gemm.h"
#include "recur/core/rng.h"

namespace recur {
namespace {

using cpu::from_bf16;
using cpu::to_bf16;

// The vector rounding (kernels/cpu/simd.h, used to pack one-row products' weights) gives the
// scalar rounding's bits: ties both ways, NaN of both signs and payloads, infinities, zeros,
// denormals, the largest floats (which round to infinity), and random bit patterns.
TEST(Bf16, VectorRoundingEqualsScalar) {
  std::vector<uint32_t> bits = {0x3f808000u, 0x3f818000u, 0x3f808001u, 0x7f800000u, 0xff800000u,
                                0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x7fbfffffu, 0x00000000u,
                                0x80000000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu, 0xff7fffffu};
  Rng rng(21);
  for (int k = 0; k < 4096; ++k) bits.push_back(uint32_t(rng.uniform(0, 4294967295.0)));
  namespace hn = hwy::HWY_NAMESPACE;
  const cpu::simd::Df d;
  const hn::RebindToUnsigned<cpu::simd::Df> du;
  const size_t L = hn::Lanes(d);
  while (bits.size() % L) bits.push_back(0x3f800000u);
  std::vector<float> in(bits.size());
  std::vector<uint32_t> out(bits.size());
  std::memcpy(in.data(), bits.data(), bits.size() * sizeof(float));
  for (size_t i = 0; i < in.size(); i += L)
    hn::StoreU(cpu::simd::bf16_bits(hn::LoadU(d, in.data() + i)), du, out.data() + i);
  for (size_t i = 0; i < in.size(); ++i)
    ASSERT_EQ(out[i], uint32_t(to_bf16(in[i]))) << std::hex << "bits 0x" << bits[i];
}

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(to_bf16(-2.0f), 0xc000);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(from_bf16(to_bf16(1.0f + 0x1p-8f)), 1.0f);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6.
  EXPECT_EQ(from_bf16(to_bf16(1.0f + 3 * 0x1p-8f)), 1.0f + 0x1p-6f);
  // Just above the halfway point rounds up.
  EXPECT_EQ(from_bf16(to_bf16(1.0f + 0x1p-8f + 0x1p-20f)), 1.0f + 0x1p-7f);
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(from_bf16(to_bf16(std::numeric_limits<float>::infinity())),
            std::numeric_limits<float>::infinity());
  // The largest float rounds up to infinity, as IEEE rounding does.
  EXPECT_EQ(from_bf16(to_bf16(std::numeric_limits<float>::max())),
            std::numeric_limits<float>::infinity());
  Rng rng(2);
  for (int i = 0; i < 1000; ++i) {  // error at most half a unit in the 8th significant bit
    const float x = float(rng.uniform(-100, 100));
    EXPECT_LE(std::abs(from_bf16(to_bf16(x)) - x), std::abs(x) * 0x1p-8f) << x;
  }
}

TEST(Bf16, RoundsStridedRows) {
  const std::vector<float> src = {1.0f, 2.5f, 99.0f, -3.0f, 0.125f, 99.0f};
  std::vector<cpu::bf16> dst(4);
  cpu::round_to_bf16(src.data(), 2, 2, 3, dst.data());
  EXPECT_EQ(from_bf16(dst[0]), 1.0f);
  EXPECT_EQ(from_bf16(dst[1]), 2.5f);
  EXPECT_EQ(from_bf16(dst[2]), -3.0f);
  EXPECT_EQ(from_bf16(dst[3]), 0.125f);
}

// A strided matrix large enough for the rows to be split between two threads, with rows longer
// than a vector and not a multiple of it (vector body and scalar tail), of random bit patterns
// (NaNs, infinities, ties among them): every element has the scalar rounding's bits.
TEST(Bf16, RoundsLargeStridedMatricesAsScalar) {
  const int64_t rows = 700, cols = 101, ld = 107;
  std::vector<uint32_t> bits(size_t(rows * ld));
  Rng rng(22);
  for (auto& b : bits) b = uint32_t(rng.uniform(0, 4294967295.0));
  bits[5] = 0x7fc00000u;
  bits[6] = 0x3f808000u;
  bits[7] = 0xff800000u;
  std::vector<float> src(bits.size());
  std::memcpy(src.data(), bits.data(), bits.size() * sizeof(float));
  std::vector<cpu::bf16> dst(size_t(rows * cols));
  const int saved = omp_get_max_threads();
  set_num_threads(2);
  cpu::round_to_bf16(src.data(), rows, cols, ld, dst.data());
  set_num_threads(saved);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      ASSERT_EQ(dst[size_t(r * cols + c)], to_bf16(src[size_t(r * ld + c)]))
          << "row " << r << " column " << c << std::hex << " bits 0x" << bits[size_t(r * ld + c)];
}

struct GemmCase {
  bool ta, tb;
  float alpha, beta;
};

class Bf16GemmCases : public ::testing::TestWithParam<GemmCase> {};

TEST_P(Bf16GemmCases, EqualsReferenceOnRoundedOperands) {
  const GemmCase c = GetParam();
  const int64_t M = 13, N = 29, K = 70;
  const int64_t lda = (c.ta ? M : K) + 3, ldb = (c.tb ? K : N) + 2, ldc = N + 4;
  Rng rng(7);
  auto random = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = float(rng.uniform(-1, 1));
    return v;
  };
  const std::vector<float> A = random((c.ta ? K : M) * lda), B = random((c.tb ? N : K) * ldb);
  const std::vector<float> C0 = random(M * ldc);
  auto rounded = [](std::vector<float> v) {
    for (float& x : v) x = from_bf16(to_bf16(x));
    return v;
  };
  std::vector<float> got = C0, want = C0, full = C0;
  gemm<float>(Precision::bf16, c.ta, c.tb, M, N, K, c.alpha, A.data(), lda, B.data(), ldb, c.beta,
              got.data(), ldc);
  const std::vector<float> Ar = rounded(A), Br = rounded(B);
  cpu::gemm_reference<float>(c.ta, c.tb, M, N, K, c.alpha, Ar.data(), lda, Br.data(), ldb, c.beta,
                             want.data(), ldc);
  cpu::gemm_reference<float>(c.ta, c.tb, M, N, K, c.alpha, A.data(), lda, B.data(), ldb, c.beta,
                             full.data(), ldc);
  double max_vs_fp32 = 0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < ldc; ++n) {
      const size_t i = size_t(m * ldc + n);
      if (n >= N) {
        EXPECT_EQ(got[i], C0[i]) << "padding column " << n << " of row " << m << " was written";
        continue;
      }
      EXPECT_NEAR(got[i], want[i], 1e-5f * (1 + std::abs(want[i]))) << "(" << m << "," << n << ")";
      max_vs_fp32 = std::max(max_vs_fp32, double(std::abs(got[i] - full[i])));
    }
  EXPECT_GT(max_vs_fp32, 1e-5) << "the bf16 product equals the fp32 one: nothing was rounded";
  EXPECT_LT(max_vs_fp32, 0.05) << "bf16 rounding of K=" << K << " terms in [-1, 1]";
}

INSTANTIATE_TEST_SUITE_P(Layouts, Bf16GemmCases,
                         ::testing::Values(GemmCase{false, false, 1, 0}, GemmCase{false, true, 1, 1},
                                           GemmCase{true, false, 1, 1}, GemmCase{true, true, 0.5f, 0.25f},
                                           GemmCase{false, true, 2, 0}),
                         [](const auto& info) {
                           const GemmCase c = info.param;
                           return std::string(c.ta ? "At" : "A") + (c.tb ? "Bt" : "B") + "_alpha" +
                                  std::to_string(int(c.alpha * 100)) + "_beta" +
                                  std::to_string(int(c.beta * 100));
                         });

TEST(Bf16, DoubleRefusesBf16) {
  std::vector<double> a(4, 1.0), b(4, 1.0), c(4, 0.0);
  EXPECT_RECUR_ERROR(gemm<double>(Precision::bf16, false, false, 2, 2, 2, 1.0, a.data(), 2,
                                  b.data(), 2, 0.0, c.data(), 2),
                     "bf16", "double");
}

TEST(Bf16, ParsesPrecisionNames) {
  EXPECT_EQ(parse_precision("fp32"), Precision::fp32);
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_STREQ(precision_name(Precision::bf16), "bf16");
  EXPECT_RECUR_ERROR(parse_precision("fp16"), "fp16", "fp32 or bf16");
}

}  // namespace
}  // namespace recur
