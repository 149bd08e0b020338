// recur::gemm: the one matrix product every layer uses, chosen at one dispatch point
// (src/kernels/dispatch.cpp): float goes to oneDNN's sgemm, double (gradient checks) to the plain
// reference kernel. Row-major, BLAS argument order: outputs' sizes first, then operands.
#pragma once

#include <cstdint>
#include <string>

namespace recur {

// The precision of a product's operands. fp32: float throughout. bf16 (mixed precision): both
// operands rounded to bfloat16 (8 significant bits), the products accumulated and returned in
// float; master weights, activations and optimiser state stay float. bf16 needs T = float.
enum class Precision { fp32, bf16 };
const char* precision_name(Precision p);    // "fp32", "bf16"
Precision parse_precision(const std::string& name);  // throws on anything else

// C(M,N) = alpha * op(A)(M,K) @ op(B)(K,N) + beta * C, all row-major with leading dimensions
// lda/ldb/ldc. op(X) = X^T when the trans flag is set (then X is stored (K,M) or (N,K)).
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// The same product with its operands in the given precision (fp32: the gemm above).
template <class T>
void gemm(Precision precision, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
          T alpha, const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

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
// oneDNN matmul on bfloat16 copies of A and B, accumulating in float (kernels/cpu/bf16.cpp).
void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc);
}  // namespace cpu

}  // namespace recur
