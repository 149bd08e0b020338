// CPU GEMM kernels: the plain reference loops (any T) and oneDNN's sgemm (float).
#include <dnnl.h>

#include "recur/core/error.h"
#include "recur/core/gemm.h"

namespace recur::cpu {

template <class T>
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                    const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m) {
    T* c = C + m * ldc;
    if (beta == T(0)) {
      for (int64_t n = 0; n < N; ++n) c[n] = T(0);
    } else if (beta != T(1)) {
      for (int64_t n = 0; n < N; ++n) c[n] *= beta;
    }
    for (int64_t k = 0; k < K; ++k) {
      const T a = alpha * (trans_a ? A[k * lda + m] : A[m * lda + k]);
      if (a == T(0)) continue;
      if (trans_b) {
        for (int64_t n = 0; n < N; ++n) c[n] += a * B[n * ldb + k];
      } else {
        const T* b = B + k * ldb;
        for (int64_t n = 0; n < N; ++n) c[n] += a * b[n];
      }
    }
  }
}

template void gemm_reference<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                    int64_t, const float*, int64_t, float, float*, int64_t);
template void gemm_reference<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                     int64_t, const double*, int64_t, double, double*, int64_t);

void gemm_onednn(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  if (M == 0 || N == 0) return;
  const dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A,
                                      lda, B, ldb, beta, C, ldc);
  RECUR_CHECK(st == dnnl_success, "oneDNN sgemm failed with status " << int(st) << " for M=" << M
                                                                      << " N=" << N << " K=" << K);
}

}  // namespace recur::cpu
