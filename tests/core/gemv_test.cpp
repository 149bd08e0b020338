// PackedGemv (kernels/cpu/gemv.h), the one-row step product, against the reference GEMM: output
// counts on both sides of a vector and of a panel (16 vectors) boundary, odd and even K (bf16 packs
// k in pairs), W stored (K,N) or read transposed with a leading dimension, with and without bias,
// assigning or accumulating; the output vectors run in three ranges (three threads' shares, which
// cut panels), walked forwards or in reverse, give the same bits as one call. In bf16 the reference multiplies the weight rounded to bf16 by A as it is.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/bf16.h"
#include "kernels/cpu/gemv.h"
#include "kernels/cpu/packed_gemm.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"
#include "recur/core/rng.h"

namespace recur {
namespace {

TEST(PackedGemv, EqualsReferenceAcrossShapesAndOptions) {
  Rng rng(11);
  auto random = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = float(rng.uniform(-1, 1));
    return v;
  };
  int checked = 0;
  for (const Precision precision : {Precision::fp32, Precision::bf16})
    for (const int64_t N : {1, 15, 16, 17, 127, 128, 129, 255, 256, 257, 600})
      for (const int64_t K : {1, 2, 7, 64})
        for (const bool trans : {true, false})
          for (const bool bias : {true, false})
            for (const bool accumulate : {false, true}) {
              if (bias && accumulate) continue;  // the cells never ask for both
              const int64_t ldw = (trans ? K : N) + 3;
              std::vector<float> w = random((trans ? N : K) * ldw), b = random(N);
              const cpu::StepGemmSpec<float> spec{w.data(), ldw, trans, K, N, bias ? b.data() : nullptr,
                                                  K, N, accumulate, precision};
              const cpu::PackedGemv g(spec);
              std::vector<float> w_seen = w;
              if (precision == Precision::bf16)
                for (float& x : w_seen) x = cpu::from_bf16(cpu::to_bf16(x));
              std::fill(w.begin(), w.end(), 1e9f);  // copied at packing: no longer read
              const std::vector<float> a = random(K), c0 = random(N + 1);  // one guard element
              std::vector<float> want = c0, got = c0, halves = c0, reversed = c0;
              if (!accumulate)
                for (int64_t n = 0; n < N; ++n) want[size_t(n)] = bias ? b[size_t(n)] : 0.0f;
              cpu::gemm_reference<float>(false, trans, 1, N, K, 1.0f, a.data(), K, w_seen.data(), ldw,
                                         1.0f, want.data(), N);
              g.run(a.data(), got.data());
              for (int part = 0; part < 3; ++part) {  // three threads' shares, forwards and back
                const int64_t v0 = g.vectors() * part / 3, v1 = g.vectors() * (part + 1) / 3;
                g.run(a.data(), halves.data(), v0, v1);
                g.run(a.data(), reversed.data(), v0, v1, true);
              }
              const std::string what = std::string(precision_name(precision)) + " N=" + std::to_string(N) +
                                       " K=" + std::to_string(K) + (trans ? " trans" : " plain") +
                                       (bias ? " bias" : "") + (accumulate ? " accumulate" : "");
              for (int64_t n = 0; n < N; ++n) {
                ASSERT_NEAR(got[size_t(n)], want[size_t(n)], 1e-5f * (1 + std::abs(want[size_t(n)])))
                    << what << " output " << n;
                ASSERT_EQ(halves[size_t(n)], got[size_t(n)]) << what << " output " << n;
                ASSERT_EQ(reversed[size_t(n)], got[size_t(n)]) << what << " output " << n << " (reverse)";
              }
              ASSERT_EQ(got[size_t(N)], c0[size_t(N)]) << what << ": wrote past the last output";
              ASSERT_EQ(reversed[size_t(N)], c0[size_t(N)]) << what << ": wrote past the last output (reverse)";
              ++checked;
            }
  EXPECT_EQ(checked, 2 * 11 * 4 * 2 * 3);
}

TEST(PackedGemv, RefusesAnEmptyWeight) {
  const float w = 1;
  const cpu::StepGemmSpec<float> empty{&w, 1, true, 0, 1, nullptr, 0, 1, false, Precision::fp32};
  EXPECT_THROW(cpu::PackedGemv{empty}, Error);
}

// PackedGemm's one-row block on a weight big enough to be split between two threads when called
// outside a parallel region (packed_gemm.cpp: kGemvParallelElements): the same product.
TEST(PackedGemv, OneRowBlockSplitBetweenThreads) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  Rng rng(12);
  const int64_t K = 512, N = 600;
  std::vector<float> w(size_t(N * K)), a(static_cast<size_t>(K)), want(static_cast<size_t>(N), 0.0f), got(static_cast<size_t>(N));
  for (float& x : w) x = float(rng.uniform(-1, 1));
  for (float& x : a) x = float(rng.uniform(-1, 1));
  const cpu::PackedGemm<float> g({w.data(), K, true, K, N, nullptr, K, N, false, Precision::fp32}, {1});
  g.run(0, a.data(), got.data());
  std::vector<float> second(static_cast<size_t>(N));  // the next call walks the panels in reverse
  g.run(0, a.data(), second.data());
  omp_set_num_threads(saved);
  cpu::gemm_reference<float>(false, true, 1, N, K, 1.0f, a.data(), K, w.data(), K, 0.0f, want.data(), N);
  for (int64_t n = 0; n < N; ++n) {
    ASSERT_NEAR(got[size_t(n)], want[size_t(n)], 1e-4f * (1 + std::abs(want[size_t(n)]))) << "output " << n;
    ASSERT_EQ(second[size_t(n)], got[size_t(n)]) << "output " << n << " of the second call";
  }
}

}  // namespace
}  // namespace recur
