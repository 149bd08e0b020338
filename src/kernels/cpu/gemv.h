// The one-row step product, c (N) = a (K) op(W) (+ bias), on a weight packed once for it.
//
// One row (a streaming step, or a batch of one) makes the product a matrix-vector product: every
// weight is read once per step and used once, so the time is the time to stream the weight from
// the core's cache, and what matters is that nothing else is in the way (docs/speed.md): a general
// GEMM's per-call set-up costs a one-row product of a 128-unit LSTM as much as its arithmetic.
//
// Layout: the N outputs are cut into vectors of the build's float lanes (the last one
// zero-padded), and the vectors into panels of up to 16 (8 where the target has 16 registers);
// each panel is stored K-major: for every k, the panel's outputs' weights side by side, so the
// kernel walks a panel in one contiguous stream, broadcasting a[k] and accumulating one register
// per output vector. In bf16 each 32-bit word holds the weights of one output for k and k + 1
// (k in the low half); the kernel widens them to float by a shift and a mask, and a stays float
// (exact in a, unlike a bf16 GEMM, which rounds a too). Storage is 64-byte aligned.
#pragma once

#include <cstdint>

#include <hwy/aligned_allocator.h>

#include "kernels/cpu/packed_gemm.h"

namespace recur::cpu {

class PackedGemv {
 public:
  PackedGemv() = default;
  // Packs op(W) and the bias of spec (copied); spec.lda is not used (a is one row).
  explicit PackedGemv(const StepGemmSpec<float>& spec);

  int64_t elements() const { return K_ * N_; }
  int64_t vectors() const { return vectors_; }  // output vectors: the unit of a thread's share
  // c = a op(W) (+ bias), or c += a op(W) with spec.accumulate, for the outputs of vectors
  // [v0, v1) (outputs v0 * lanes to min(N, v1 * lanes)): a thread's share of the product.
  // `reverse` walks the panels from the last to the first, with the same results: a caller that
  // alternates it from one call to the next starts each call on the weights the last one read,
  // still in cache when the weight is a little larger than the cache (gemv.cpp).
  void run(const float* a, float* c, int64_t v0, int64_t v1, bool reverse = false) const;
  void run(const float* a, float* c, bool reverse = false) const { run(a, c, 0, vectors_, reverse); }

 private:
  int64_t stored_rows() const { return bf16_ ? (K_ + 1) / 2 : K_; }  // per panel: k, or pairs of k

  int64_t K_ = 0, N_ = 0, vectors_ = 0, lanes_ = 0;
  bool bf16_ = false, accumulate_ = false;
  hwy::AlignedFreeUniquePtr<float[]> w_;      // fp32 panels
  hwy::AlignedFreeUniquePtr<uint32_t[]> w2_;  // bf16 panels: pairs of k in one word
  hwy::AlignedFreeUniquePtr<float[]> bias_;   // (N padded) zeros without a bias
};

}  // namespace recur::cpu
