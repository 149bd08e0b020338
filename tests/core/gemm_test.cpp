// oneDNN sgemm against the reference loops, for every transpose combination and strided operands.
#include <gtest/gtest.h>

#include <vector>

#include "recur/core/gemm.h"
#include "recur/core/rng.h"

namespace recur {

TEST(Gemm, OneDnnMatchesReferenceAllTransposes) {
  Rng rng(7);
  const int64_t M = 13, N = 9, K = 17, pad = 3;
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
      std::vector<float> A((ta ? K : M) * lda), B((tb ? N : K) * ldb), C(M * ldc);
      for (auto& v : A) v = float(rng.uniform(-1, 1));
      for (auto& v : B) v = float(rng.uniform(-1, 1));
      for (auto& v : C) v = float(rng.uniform(-1, 1));
      std::vector<float> ref = C;
      gemm<float>(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f, C.data(), ldc);
      cpu::gemm_reference<float>(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, 0.25f,
                                 ref.data(), ldc);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n)
          EXPECT_NEAR(C[m * ldc + n], ref[m * ldc + n], 1e-5) << "ta=" << ta << " tb=" << tb;
      // The padding columns are untouched.
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = N; n < ldc; ++n) EXPECT_EQ(C[m * ldc + n], ref[m * ldc + n]);
    }
  }
}

}  // namespace recur
