// The one dispatch point: which backend runs each kernel. A CUDA backend adds its branch here.
#include <omp.h>

#include <algorithm>
#include <thread>

#include "recur/core/enum_names.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"
#include "recur/dist/communicator.h"

namespace recur {

template <>
void gemm<float>(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  cpu::gemm_onednn(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <>
void gemm<double>(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                  const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
                  double* C, int64_t ldc) {
  cpu::gemm_reference(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

constexpr EnumNames<Precision, 2> kPrecisionNames{
    {{Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}}};

const char* precision_name(Precision p) { return enum_name(kPrecisionNames, p); }
Precision parse_precision(const std::string& name) {
  return parse_enum(kPrecisionNames, name, "precision");
}

template <>
void gemm<float>(Precision precision, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                 float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                 float beta, float* C, int64_t ldc) {
  if (precision == Precision::bf16)
    cpu::gemm_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else
    gemm<float>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template <>
void gemm<double>(Precision precision, bool trans_a, bool trans_b, int64_t M, int64_t N,
                  int64_t K, double alpha, const double* A, int64_t lda, const double* B,
                  int64_t ldb, double beta, double* C, int64_t ldc) {
  RECUR_CHECK(precision == Precision::fp32, "bf16 products need float tensors, not double");
  gemm<double>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void set_num_threads(int n) {
  // 0: every core, shared between the ranks an MPI launcher put on this machine (no
  // oversubscription: each rank is one OpenMP team).
  const int ranks = dist::ranks_on_this_node();
  if (n <= 0 && ranks > 1) n = std::max(1, int(std::thread::hardware_concurrency()) / ranks);
  if (n > 0) omp_set_num_threads(n);  // oneDNN here runs on OpenMP
}

}  // namespace recur
