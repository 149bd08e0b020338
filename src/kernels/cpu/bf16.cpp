// bf16 mixed-precision GEMM: float operands rounded to bfloat16, multiplied by oneDNN's matmul
// (AVX512-BF16 dot products, or AMX tiles where the CPU has them), accumulated and returned in
// float. One prepared primitive per product shape and thread; the rounded operands live in
// per-thread buffers that grow to the largest product seen.
#include "kernels/cpu/bf16.h"

#include <omp.h>

#include <dnnl.hpp>

#include <map>
#include <tuple>
#include <vector>

#include "kernels/cpu/simd.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"

namespace recur::cpu {

// A vector of floats at a time (simd::bf16_bits, the same rounding as to_bf16), the rows split
// between the threads when there are enough of them: a bf16 weight-gradient product rounds a
// whole sequence's gate gradients (16 MB at LSTM H=512, B=32, T=64), which one thread took 4% of
// a training step to do while the matmul after it ran on all of them.
void round_to_bf16(const float* src, int64_t rows, int64_t cols, int64_t ld, bf16* dst) {
  namespace hn = simd::hn;
  const simd::Df d;
  const hn::Rebind<int32_t, simd::Df> di;
  const hn::Rebind<uint16_t, simd::Df> d16;
  const int64_t L = int64_t(hn::Lanes(d));
  const bool split = !omp_in_parallel() && rows > 1 && rows * cols >= (int64_t(1) << 16);
#pragma omp parallel for schedule(static) if (split)
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = src + r * ld;
    bf16* out = dst + r * cols;
    int64_t c = 0;
    for (; c + L <= cols; c += L)
      hn::StoreU(hn::DemoteTo(d16, hn::BitCast(di, simd::bf16_bits(hn::LoadU(d, s + c)))), d16,
                 out + c);
    for (; c < cols; ++c) out[c] = to_bf16(s[c]);
  }
}

namespace {

using dnnl::memory;

struct Bf16Product {
  dnnl::matmul product;
  memory a, b, c;
};

// (trans_a, trans_b, M, N, K, ldc, alpha, beta): what a prepared product depends on.
using Bf16Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, float, float>;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

Bf16Product make_product(const Bf16Key& key) {
  const auto [ta, tb, M, N, K, ldc, alpha, beta] = key;
  const dnnl::engine& engine = cpu_engine();
  // op(A) (M,K) and op(B) (K,N) over the contiguous rounded copies of A and B as stored.
  const memory::desc a_md({M, K}, memory::data_type::bf16, ta ? memory::dims{1, M} : memory::dims{K, 1});
  const memory::desc b_md({K, N}, memory::data_type::bf16, tb ? memory::dims{1, K} : memory::dims{N, 1});
  const memory::desc c_md({M, N}, memory::data_type::f32, memory::dims{ldc, 1});
  dnnl::primitive_attr attr;
  if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
  if (beta != 0.0f) {
    dnnl::post_ops ops;
    ops.append_sum(beta);
    attr.set_post_ops(ops);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, engine);
  return {dnnl::matmul(pd), memory(a_md, engine, nullptr), memory(b_md, engine, nullptr),
          memory(c_md, engine, nullptr)};
}

}  // namespace

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // no products: C = beta C
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = beta == 0.0f ? 0.0f : beta * C[m * ldc + n];
    return;
  }
  thread_local std::map<Bf16Key, Bf16Product> products;
  thread_local std::vector<bf16> a16, b16;
  thread_local dnnl::stream stream(cpu_engine());
  a16.resize(size_t(M * K));
  b16.resize(size_t(K * N));
  // A and B as stored: (M,K) or, transposed, (K,M); (K,N) or (N,K).
  round_to_bf16(A, trans_a ? K : M, trans_a ? M : K, lda, a16.data());
  round_to_bf16(B, trans_b ? N : K, trans_b ? K : N, ldb, b16.data());
  const Bf16Key key{trans_a, trans_b, M, N, K, ldc, alpha, beta};
  auto it = products.find(key);
  if (it == products.end()) {
    if (products.size() >= 64) products.clear();  // many sequence lengths: bound what is kept
    it = products.emplace(key, make_product(key)).first;
  }
  Bf16Product& p = it->second;
  p.a.set_data_handle(a16.data());
  p.b.set_data_handle(b16.data());
  p.c.set_data_handle(C);
  dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, p.a.get()}, {DNNL_ARG_WEIGHTS, p.b.get()},
                             {DNNL_ARG_DST, p.c.get()}};
  const dnnl_status_t st = dnnl_primitive_execute(p.product.get(), stream.get(), 3, args);
  RECUR_CHECK(st == dnnl_success, "oneDNN bf16 matmul failed with status "
                                      << int(st) << " for M=" << M << " N=" << N << " K=" << K);
}

}  // namespace recur::cpu
