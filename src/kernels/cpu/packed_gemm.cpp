// PackedGemm: oneDNN matmul on a pre-packed weight (float), the reference GEMM in place (double).
#include "kernels/cpu/packed_gemm.h"

#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <atomic>

#include "kernels/cpu/bf16.h"
#include "kernels/cpu/gemv.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"

namespace recur::cpu {
namespace {

using dnnl::memory;

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// A row-major (rows, cols) view with leading dimension ld.
memory::desc strided(int64_t rows, int64_t cols, int64_t ld) {
  return memory::desc({rows, cols}, memory::data_type::f32, memory::dims{ld, 1});
}

}  // namespace

// The product on the weight where it lies: the bias broadcast into C, then one GEMM.
template <class T>
void run_in_place(const StepGemmSpec<T>& s, int64_t M, const T* A, T* C) {
  if (!s.accumulate) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < s.N; ++n) C[m * s.ldc + n] = s.bias ? s.bias[n] : T(0);
  }
  gemm<T>(s.precision, false, s.trans, M, s.N, s.K, T(1), A, s.lda, s.w, s.ldw, T(1), C, s.ldc);
}

// double: never packed; run() is the reference GEMM on the weight where it lies.
template <>
struct PackedGemm<double>::Impl {
  StepGemmSpec<double> spec;
  std::vector<int64_t> rows;
};

template <>
PackedGemm<double>::PackedGemm(const StepGemmSpec<double>& spec,
                               const std::vector<int64_t>& block_rows, bool)
    : impl_(std::make_unique<Impl>(Impl{spec, block_rows})) {
  RECUR_CHECK(spec.precision == Precision::fp32, "bf16 products need float tensors, not double");
}

template <>
void PackedGemm<double>::run(int block, const double* A, double* C) const {
  run_in_place(impl_->spec, impl_->rows[size_t(block)], A, C);
}

// float: the weight reordered once into the layout the matmul primitive chose; one primitive,
// stream and pair of source/destination memory objects per block (their data handles are set at
// each call, so no object is created per step). In bf16 each block also has the buffer its A rows
// are rounded into. Blocks of one row run PackedGemv instead (gemv.h), on its own packing.
template <>
struct PackedGemm<float>::Impl {
  struct Block {
    dnnl::matmul product;
    int weights = 0;  // index into `packed`
    dnnl::stream stream;
    memory a, c;
    std::vector<bf16> a16;  // bf16: the rounded A rows (M,K)
    bool one_row = false;   // run by `gemv` instead (nothing above is set)
  };
  std::vector<memory> packed;  // usually one layout serves every block
  memory bias;
  std::vector<Block> blocks;
  PackedGemv gemv;  // the one-row blocks' product
  // Calls of the one-row product so far: odd ones walk its panels in reverse (gemv.h). Atomic
  // because one model's products may run on several threads at once (the results do not depend
  // on the order).
  mutable std::atomic<uint32_t> gemv_calls{0};
  bool bf16 = false;
  int64_t K = 0, lda = 0;
  // Not packed: the spec and the row counts, for run_in_place.
  StepGemmSpec<float> in_place;
  std::vector<int64_t> rows;
};

// The largest weight (bytes as stored) whose one-row products run on PackedGemv: one core's L2
// here. Beyond it the weight streams from L3 at every step; there oneDNN's matmul measured 2-13%
// faster on two threads (B=1 training at H = 512 and 1024) and the two were level on one.
constexpr int64_t kGemvMaxBytes = int64_t(2) << 20;

template <>
PackedGemm<float>::PackedGemm(const StepGemmSpec<float>& s, const std::vector<int64_t>& block_rows,
                              bool pack)
    : impl_(std::make_unique<Impl>()) {
  RECUR_CHECK(s.w && s.K > 0 && s.N > 0, "PackedGemm: empty weight (K=" << s.K << " N=" << s.N << ")");
  if (!pack) {
    impl_->in_place = s;
    impl_->rows = block_rows;
    return;
  }
  const dnnl::engine& eng = cpu_engine();
  const bool half = s.precision == Precision::bf16;
  const memory::data_type wt = half ? memory::data_type::bf16 : memory::data_type::f32;
  impl_->bf16 = half;
  impl_->K = s.K;
  impl_->lda = s.lda;
  // op(W) (K,N) as stored: W (K,N) row-major, or W (N,K) row-major read transposed. The reorder
  // into the packed layout also rounds it to bf16 where asked.
  const memory::desc w_user({s.K, s.N}, memory::data_type::f32,
                            s.trans ? memory::dims{1, s.ldw} : memory::dims{s.ldw, 1});
  const memory::desc w_any({s.K, s.N}, wt, memory::format_tag::any);
  const memory::desc b_md = s.bias ? strided(1, s.N, s.N) : memory::desc();
  dnnl::primitive_attr attr;
  if (s.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  dnnl::stream pack_stream(eng);
  memory w_src(w_user, eng, const_cast<float*>(s.w));
  for (const int64_t M : block_rows) {
    RECUR_CHECK(M > 0, "PackedGemm: a block of " << M << " rows");
    // One row, on a weight that stays in a core's cache from step to step: PackedGemv.
    const bool one_row = M == 1 && s.K * s.N * (half ? 2 : 4) <= kGemvMaxBytes;
    if (one_row) {
      if (impl_->gemv.vectors() == 0) impl_->gemv = PackedGemv(s);
      impl_->blocks.emplace_back().one_row = true;
      continue;
    }
    const memory::desc a_md = half ? memory::desc({M, s.K}, wt, memory::dims{s.K, 1})
                                   : strided(M, s.K, s.lda);
    const memory::desc c_md = strided(M, s.N, s.ldc);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, w_any, b_md, c_md), attr, eng);
    Impl::Block blk{dnnl::matmul(pd), 0, dnnl::stream(eng), memory(a_md, eng, nullptr),
                    memory(c_md, eng, nullptr), std::vector<bf16>(half ? size_t(M * s.K) : 0), false};
    const auto same = std::find_if(impl_->packed.begin(), impl_->packed.end(),
                                   [&](const memory& m) { return m.get_desc() == pd.weights_desc(); });
    if (same != impl_->packed.end()) {
      blk.weights = int(same - impl_->packed.begin());
    } else {
      memory w(pd.weights_desc(), eng);
      dnnl::reorder(w_src, w).execute(pack_stream, w_src, w);
      blk.weights = int(impl_->packed.size());
      impl_->packed.push_back(std::move(w));
    }
    impl_->blocks.push_back(std::move(blk));
  }
  pack_stream.wait();
  if (s.bias) {
    impl_->bias = memory(b_md, eng);
    std::copy_n(s.bias, s.N, static_cast<float*>(impl_->bias.get_data_handle()));
  }
}

// A one-row product called outside a parallel region may use the idle threads (as oneDNN's
// matmul would): the panels are split between them when the weight is at least this many
// elements; below it the fork and join cost more than the second core saves.
constexpr int64_t kGemvParallelElements = int64_t(1) << 18;

template <>
void PackedGemm<float>::run(int block, const float* A, float* C) const {
  if (impl_->blocks.empty()) return run_in_place(impl_->in_place, impl_->rows[size_t(block)], A, C);
  if (impl_->blocks[size_t(block)].one_row) {
    const PackedGemv& g = impl_->gemv;
    const int64_t vectors = g.vectors();
    const bool reverse = impl_->gemv_calls.fetch_add(1, std::memory_order_relaxed) & 1u;
    const int threads = omp_in_parallel() || g.elements() < kGemvParallelElements
                            ? 1
                            : int(std::min<int64_t>(omp_get_max_threads(), vectors));
    if (threads <= 1) return g.run(A, C, reverse);
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      g.run(A, C, vectors * t / nt, vectors * (t + 1) / nt, reverse);
    }
    return;
  }
  Impl::Block& b = impl_->blocks[size_t(block)];
  if (impl_->bf16) {
    const int64_t M = int64_t(b.a16.size()) / impl_->K;
    round_to_bf16(A, M, impl_->K, impl_->lda, b.a16.data());
    b.a.set_data_handle(b.a16.data());
  } else {
    b.a.set_data_handle(const_cast<float*>(A));
  }
  b.c.set_data_handle(C);
  dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, b.a.get()},
                             {DNNL_ARG_WEIGHTS, impl_->packed[size_t(b.weights)].get()},
                             {DNNL_ARG_DST, b.c.get()},
                             {DNNL_ARG_BIAS, impl_->bias ? impl_->bias.get() : nullptr}};
  const dnnl_status_t st =
      dnnl_primitive_execute(b.product.get(), b.stream.get(), impl_->bias ? 4 : 3, args);
  RECUR_CHECK(st == dnnl_success, "oneDNN matmul failed with status " << int(st));
}

template <class T>
PackedGemm<T>::PackedGemm() = default;
template <class T>
PackedGemm<T>::PackedGemm(PackedGemm&&) noexcept = default;
template <class T>
PackedGemm<T>& PackedGemm<T>::operator=(PackedGemm&&) noexcept = default;
template <class T>
PackedGemm<T>::~PackedGemm() = default;

template class PackedGemm<float>;
template class PackedGemm<double>;

}  // namespace recur::cpu
