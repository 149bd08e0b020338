// The step product of a time loop, with its weight packed once: every step multiplies a few rows
// (the batch, or one thread's block of it) by the same recurrent weight, so the weight is laid out
// once per sequence in the GEMM kernel's own blocked format and each step's product runs straight
// on it. For float that is oneDNN's matmul primitive (brgemm, AVX-512 where present) on a weight
// reordered to the layout it asks for; re-packing B columns at every call, as sgemm does, cost
// 1.3-2x at the recurrent shapes (docs/speed.md). For double (the gradient checks) it is the
// reference GEMM on the weight in place, so both precisions run through this one interface.
// In bf16 (float only) the weight is packed as bfloat16 and each step rounds its A rows to bf16
// before the product; C stays float.
//
//   C (M,N) = A (M,K) op(W) (+ bias)         or, with accumulate, C += A op(W)
//
// M is the row count of one of a fixed set of blocks (the loop's row blocks, cpu::block_rows); each
// block has its own prepared product, so the blocks run concurrently on their threads. A block
// product called outside a parallel region may itself use the thread pool (one block, many cores).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "recur/core/gemm.h"

namespace recur::cpu {

template <class T>
struct StepGemmSpec {
  const T* w = nullptr;  // the weight as stored: row-major with leading dimension ldw
  int64_t ldw = 0;
  bool trans = false;     // op(W) = W^T (W stored (N,K)); otherwise W is stored (K,N)
  int64_t K = 0, N = 0;   // op(W) is (K,N)
  const T* bias = nullptr;  // (N) added to every row, or null
  int64_t lda = 0, ldc = 0;  // leading dimensions of A and C
  bool accumulate = false;   // C += A op(W) instead of C = A op(W) + bias
  Precision precision = Precision::fp32;
};

template <class T>
class PackedGemm {
 public:
  PackedGemm();
  // Packs spec.w (copied: the weight may change afterwards) for blocks of the given row counts.
  // With pack = false nothing is copied or prepared and run() is the plain GEMM on the weight where
  // it lies (which must then outlive this object): for a sequence of a step or two, the packing
  // would cost more than it saves (a decoder or a sampler calls the layer once per token).
  PackedGemm(const StepGemmSpec<T>& spec, const std::vector<int64_t>& block_rows, bool pack = true);
  PackedGemm(PackedGemm&&) noexcept;
  PackedGemm& operator=(PackedGemm&&) noexcept;
  ~PackedGemm();

  // C = A op(W) (+ bias) for block `block`: A has that block's row count of rows.
  void run(int block, const T* A, T* C) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Packing pays off over sequences of at least this many steps (see the constructor).
inline constexpr int64_t kMinStepsToPack = 4;

}  // namespace recur::cpu
