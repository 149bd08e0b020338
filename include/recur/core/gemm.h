// recur::gemm: the one matrix product every layer uses, chosen at one dispatch point
// (src/kernels/dispatch.cpp): float goes to oneDNN's sgemm, double (gradient checks) to the plain
// reference kernel. Row-major, BLAS argument order: outputs' sizes first, then operands.
#pragma once

#include <cstdint>

namespace recur {

// C(M,N) = alpha * op(A)(M,K) @ op(B)(K,N) + beta * C, all row-major with leading dimensions
// lda/ldb/ldc. op(X) = X^T when the trans flag is set (then X is stored (K,M) or (N,K)).
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// Sets the number of threads the GEMM backend may use (0: backend default).
void set_num_threads(int n);

namespace cpu {
// Reference kernel: plain loops, any T. The oracle the tests hold oneDNN against.
template <class T>
void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                    const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);
// oneDNN sgemm.
void gemm_onednn(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc);
}  // namespace cpu

}  // namespace recur
