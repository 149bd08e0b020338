// PackedGemm (kernels/cpu/packed_gemm.h): the float path (oneDNN matmul on a reordered weight)
// against the reference GEMM, for every option the cells use: W stored (K,N) or read transposed,
// with and without bias, assigning or accumulating, strided A, C and W, several row blocks; in
// fp32 and in bf16, where the reference multiplies the operands rounded to bf16 (so the products
// must agree to float accumulation error: the rounding itself is what bf16 means). A one-row block
// runs PackedGemv, which rounds only the weight: its A is seen as it is.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cpu/bf16.h"
#include "kernels/cpu/packed_gemm.h"
#include "recur/core/gemm.h"
#include "recur/core/rng.h"

namespace recur {
namespace {

struct Case {
  bool trans, bias, accumulate;
};

class PackedGemmCases : public ::testing::TestWithParam<Case> {};

void check_packed(const Case& c, Precision precision) {
  const int64_t K = 37, N = 70, ldw = (c.trans ? K : N) + 3, lda = K + 5, ldc = N + 2;
  const std::vector<int64_t> rows = {3, 4, 1};
  Rng rng(5);
  auto random = [&](int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = float(rng.uniform(-1, 1));
    return v;
  };
  std::vector<float> w = random((c.trans ? N : K) * ldw), bias = random(N);
  cpu::StepGemmSpec<float> spec{w.data(), ldw, c.trans, K, N, c.bias ? bias.data() : nullptr,
                                lda, ldc, c.accumulate, precision};
  // What the product sees of an operand: itself, or in bf16 its rounding.
  auto seen = [&](std::vector<float> v) {
    if (precision == Precision::bf16)
      for (float& x : v) x = cpu::from_bf16(cpu::to_bf16(x));
    return v;
  };
  auto check = [&](const cpu::PackedGemm<float>& g, int k, const std::vector<float>& w_ref,
                   const char* how) {
    const int64_t M = rows[size_t(k)];
    std::vector<float> a = random(M * lda), c0 = random(M * ldc);
    std::vector<float> got = c0, want = c0;
    g.run(k, a.data(), got.data());
    if (!c.accumulate)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) want[size_t(m * ldc + n)] = c.bias ? bias[size_t(n)] : 0.0f;
    const bool packed_one_row = M == 1 && std::string(how) == "packed";
    const std::vector<float> a_seen = packed_one_row ? a : seen(a), w_seen = seen(w_ref);
    cpu::gemm_reference<float>(false, c.trans, M, N, K, 1.0f, a_seen.data(), lda, w_seen.data(),
                               ldw, 1.0f, want.data(), ldc);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < ldc; ++n) {
        const size_t i = size_t(m * ldc + n);
        if (n >= N) {
          EXPECT_EQ(got[i], c0[i]) << how << ": padding column " << n << " of row " << m << " was written";
        } else {
          EXPECT_NEAR(got[i], want[i], 1e-5f * (1 + std::abs(want[i])))
              << precision_name(precision) << " " << how << " block " << k << " (" << m << "," << n << ")";
        }
      }
  };
  const std::vector<float> w_again = w;
  cpu::PackedGemm<float> in_place(spec, rows, false);  // for short sequences: nothing packed
  for (int k = 0; k < int(rows.size()); ++k) check(in_place, k, w_again, "in place");
  cpu::PackedGemm<float> packed(spec, rows);
  std::fill(w.begin(), w.end(), 1e9f);  // the weight was copied: changing it changes nothing
  for (int k = 0; k < int(rows.size()); ++k) check(packed, k, w_again, "packed");
}

TEST_P(PackedGemmCases, EqualsReference) {
  check_packed(GetParam(), Precision::fp32);
  check_packed(GetParam(), Precision::bf16);
}

INSTANTIATE_TEST_SUITE_P(Options, PackedGemmCases,
                         ::testing::Values(Case{true, true, false}, Case{true, false, false},
                                           Case{false, false, false}, Case{false, false, true},
                                           Case{true, false, true}),
                         [](const auto& info) {
                           const Case c = info.param;
                           return std::string(c.trans ? "trans" : "plain") +
                                  (c.bias ? "_bias" : "") + (c.accumulate ? "_accumulate" : "");
                         });

}  // namespace
}  // namespace recur
