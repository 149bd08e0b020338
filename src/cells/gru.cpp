// GRU cell, gate order r, z, n, in both conventions (RnnConfig::gru).
//
// Key: B = batch, H = hidden size, G = 3. x-side pre-activations (x_r, x_z, x_n) include b_ih (the
// layer's xw leaves it out; the step products and the pointwise step add it: gru_fold_input_bias).
// reset_after (PyTorch, cuDNN; default):
//   (h_r, h_z, h_n) = h_prev W_hh^T + b_hh
//   r = sigma(x_r + h_r);  z = sigma(x_z + h_z);  n = tanh(x_n + r * h_n)
//   h = (1 - z) * n + z * h_prev                          cache (B,4H) = (r, z, n, h_n)
// reset_before (Cho 2014, the seeds' formula):
//   r = sigma(x_r + h_prev W_hr^T + b_hr);  z = sigma(x_z + h_prev W_hz^T + b_hz)
//   n = tanh(x_n + (r * h_prev) W_hn^T + b_hn)
//   h = (1 - z) * n + z * h_prev                          cache (B,4H) = (r, z, n, r * h_prev)
// Backward (both):
//   dn = dh (1 - z);  dz = dh (h_prev - n);  da_n = dn (1 - n^2);  da_z = dz z (1 - z)
//   reset_after:  da_r = da_n h_n r (1 - r);  dg_hh = (da_r, da_z, da_n * r)
//                 dh_prev = dh z + dg_hh W_hh
//   reset_before: drh = da_n W_hn;  da_r = drh h_prev r (1 - r);  dg_hh = (da_r, da_z, da_n)
//                 dh_prev = dh z + drh r + (da_r, da_z) W_h{r,z}
//                 dW_hn += da_n^T (r h_prev)   (the n rows see r * h_prev, not h_prev)
//   dg_ih = (da_r, da_z, da_n)
// Parameters +=, activations = (see cell.h).
#include <type_traits>

#include "cells/cell.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/simd.h"
#include "recur/core/gemm.h"

namespace recur::cells {
namespace {

template <class T>
int64_t gru_cache_width(const RnnConfig& cfg) {
  return 4 * cfg.hidden_size;
}

bool gru_hh_grads_differ(const RnnConfig& cfg) { return cfg.gru == GruConvention::reset_after; }

// b_ih out of xw: r and z add b_i + b_h in the product. The n gate's b_in is not scaled by r:
// reset_after adds it in the pointwise step (cell_bias); reset_before adds it in the n product,
// whose input (r h_prev) W_hn^T + b_hn sits beside x_n unscaled.
template <class T>
void gru_fold_input_bias(const T* b_ih, const T* b_hh, const RnnConfig& cfg, T* product_bias,
                         std::vector<T>& cell_bias) {
  const int64_t H = cfg.hidden_size;
  for (int64_t j = 0; j < 2 * H; ++j) product_bias[j] = b_ih[j] + b_hh[j];
  if (cfg.gru == GruConvention::reset_after) {
    std::copy_n(b_hh + 2 * H, H, product_bias + 2 * H);
    cell_bias.assign(b_ih + 2 * H, b_ih + 3 * H);
  } else {
    for (int64_t j = 2 * H; j < 3 * H; ++j) product_bias[j] = b_ih[j] + b_hh[j];
    cell_bias.clear();
  }
}

// reset_after: W_hh whole (backward accumulates: dh_prev already holds dh z).
// reset_before: main = the r and z rows of W_hh (forward h_prev -> (h_r, h_z) with their biases;
// backward (da_r, da_z) -> dh_prev, accumulating), extra = W_hn (forward (r h_prev) -> h_n with
// b_hn + b_in; backward da_n -> drh).
template <class T>
void gru_pack(StepWeights<T>& w, const RnnCellParams<T>& p, const RnnConfig& cfg, bool backward,
              const std::vector<int64_t>& block_rows, PackMode mode) {
  const int64_t H = cfg.hidden_size, G3 = 3 * H, W = 4 * H;
  const Precision pr = mode.precision;
  if (!backward) {
    w.bias.resize(size_t(G3));
    gru_fold_input_bias(p.b_ih.ptr(), p.b_hh.ptr(), cfg, w.bias.data(), w.cell_bias);
  }
  if (cfg.gru == GruConvention::reset_after) {
    if (!backward)
      w.main = cpu::PackedGemm<T>({p.w_hh.ptr(), H, true, H, G3, w.bias.data(), H, G3, false, pr},
                                  block_rows, mode.packed);
    else
      w.main = cpu::PackedGemm<T>({p.w_hh.ptr(), H, false, G3, H, nullptr, G3, H, true, pr},
                                  block_rows, mode.packed);
    return;
  }
  const T* w_n = p.w_hh.ptr() + 2 * H * H;
  if (!backward) {
    w.main = cpu::PackedGemm<T>({p.w_hh.ptr(), H, true, H, 2 * H, w.bias.data(), H, G3, false, pr},
                                block_rows, mode.packed);
    w.extra = cpu::PackedGemm<T>({w_n, H, true, H, H, w.bias.data() + 2 * H, W, G3, false, pr},
                                 block_rows, mode.packed);
  } else {
    w.main = cpu::PackedGemm<T>({p.w_hh.ptr(), H, false, 2 * H, H, nullptr, G3, H, true, pr},
                                block_rows, mode.packed);
    w.extra = cpu::PackedGemm<T>({w_n, H, false, H, H, nullptr, G3, H, false, pr}, block_rows,
                                 mode.packed);
  }
}

// The reset-after GRU's pointwise step in one pass over the units: r, z, n and h, and, when
// backward follows, the cache.
template <bool KeepCache>
void gru_pointwise_fused(const StepForward<float>& s, int64_t H, int64_t B) {
  using cpu::simd::Vf;
  const int64_t ld = s.ld ? s.ld : H;
  const float* b_in = s.w->cell_bias.empty() ? nullptr : s.w->cell_bias.data();
  for (int64_t b = 0; b < B; ++b) {
    const float* xw = s.xw + b * 3 * H;
    const float* hw = s.scratch + b * 3 * H;
    const float* h_prev = s.h_prev + b * ld;
    float* h = s.h + b * ld;
    float* cache = s.cache + b * 4 * H;
    const float* next = s.xw_next ? s.xw_next + b * 3 * H : nullptr;
    cpu::simd::for_vectors(H, [&](const cpu::simd::Lanes& v) {
      if (next)
        for (int k = 0; k < 3; ++k) cpu::simd::prefetch_l2(next + k * H + v.j);
      const Vf r = cpu::simd::sigmoid(v.load(xw) + v.load(hw));
      const Vf z = cpu::simd::sigmoid(v.load(xw + H) + v.load(hw + H));
      const Vf h_n = v.load(hw + 2 * H);
      const Vf x_n = b_in ? v.load(xw + 2 * H) + v.load(b_in) : v.load(xw + 2 * H);
      const Vf n = cpu::simd::tanh(cpu::simd::hn::MulAdd(r, h_n, x_n));
      if constexpr (KeepCache) {
        v.store(cache, r);
        v.store(cache + H, z);
        v.store(cache + 2 * H, n);
        v.store(cache + 3 * H, h_n);
      }
      v.store(h, cpu::simd::hn::MulAdd(z, v.load(h_prev) - n, n));  // (1 - z) n + z h_prev
    });
  }
}

template <class T>
void gru_forward_step(const StepForward<T>& s, const RnnCellParams<T>&, const RnnConfig& cfg,
                      int64_t B) {
  const int64_t H = cfg.hidden_size, G3 = 3 * H, W = 4 * H;
  const bool after = cfg.gru == GruConvention::reset_after;
  // Recurrent pre-activations: all three blocks (reset_after) or r and z only (reset_before).
  s.w->main.run(s.block, s.product_input(), s.scratch);
  if constexpr (std::is_same_v<T, float>) {
    if (after)
      return s.keep_cache ? gru_pointwise_fused<true>(s, H, B)
                          : gru_pointwise_fused<false>(s, H, B);
  }
  for (int64_t b = 0; b < B; ++b) {
    const T* xw = s.xw + b * G3;
    const T* hw = s.scratch + b * G3;
    const T* h_prev = s.h_prev + b * H;
    T* rz = s.cache + b * W;  // r and z, in place from their pre-activations
#pragma omp simd
    for (int64_t k = 0; k < 2 * H; ++k) rz[k] = xw[k] + hw[k];
    cpu::sigmoid_inplace(rz, 2 * H);
    if (!after) {
      T* rh = rz + 3 * H;
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) rh[j] = rz[j] * h_prev[j];
    }
  }
  if (!after) {  // h_n = (r * h_prev) W_hn^T + b_hn, into the third block of scratch
    s.w->extra.run(s.block, s.cache + 3 * H, s.scratch + 2 * H);
  }
  for (int64_t b = 0; b < B; ++b) {
    const T* xw = s.xw + b * G3;
    const T* h_n = s.scratch + b * G3 + 2 * H;
    const T* h_prev = s.h_prev + b * H;
    T* cache = s.cache + b * W;
    const T *r = cache, *z = cache + H;
    T* n = cache + 2 * H;
    if (after) {
      std::copy_n(h_n, H, cache + 3 * H);
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) n[j] = xw[2 * H + j] + r[j] * h_n[j];
      if (!s.w->cell_bias.empty()) {
#pragma omp simd
        for (int64_t j = 0; j < H; ++j) n[j] += s.w->cell_bias[size_t(j)];
      }
    } else {
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) n[j] = xw[2 * H + j] + h_n[j];
    }
    cpu::tanh_inplace(n, H);
    T* h = s.h + b * H;
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) h[j] = (T(1) - z[j]) * n[j] + z[j] * h_prev[j];
  }
}

// The reset-after GRU's backward pointwise step in one pass over the units: dg_ih, dg_hh and
// dh z from r, z, n and h_n the forward kept.
void gru_backward_pointwise_fused(const StepBackward<float>& s, int64_t H, int64_t B) {
  using cpu::simd::Vf;
  const Vf one = cpu::simd::hn::Set(cpu::simd::Df(), 1.0f);
  for (int64_t b = 0; b < B; ++b) {
    const float* cache = s.cache + b * 4 * H;
    const float* dh = s.dh + b * H;
    const float* h_prev = s.h_prev + b * H;
    float* dgi = s.dg_ih + b * 3 * H;
    float* dgh = s.dg_hh + b * 3 * H;
    float* dh_prev = s.dh_prev + b * H;
    cpu::simd::for_vectors(H, [&](const cpu::simd::Lanes& v) {
      const Vf r = v.load(cache), z = v.load(cache + H), n = v.load(cache + 2 * H);
      const Vf d = v.load(dh);
      const Vf da_n = d * (one - z) * cpu::simd::hn::NegMulAdd(n, n, one);
      const Vf da_z = d * (v.load(h_prev) - n) * z * (one - z);
      const Vf da_r = da_n * v.load(cache + 3 * H) * r * (one - r);
      v.store(dgi, da_r);
      v.store(dgh, da_r);
      v.store(dgi + H, da_z);
      v.store(dgh + H, da_z);
      v.store(dgi + 2 * H, da_n);
      v.store(dgh + 2 * H, da_n * r);
      v.store(dh_prev, d * z);
    });
  }
}

template <class T>
void gru_backward_step(const StepBackward<T>& s, const RnnCellParams<T>&, const RnnConfig& cfg,
                       int64_t B) {
  const int64_t H = cfg.hidden_size, G3 = 3 * H, W = 4 * H;
  const bool after = cfg.gru == GruConvention::reset_after;
  if constexpr (std::is_same_v<T, float>) {
    if (after) {
      gru_backward_pointwise_fused(s, H, B);
      s.w->main.run(s.block, s.dg_hh, s.dh_prev);  // dh_prev += dg_hh W_hh
      return;
    }
  }
  T* drh = s.scratch;  // (B,H), reset_before only
  if (!after) {
    for (int64_t b = 0; b < B; ++b) {
      const T* cache = s.cache + b * W;
      for (int64_t j = 0; j < H; ++j) {
        const T z = cache[H + j], n = cache[2 * H + j];
        s.dg_hh[b * G3 + 2 * H + j] = s.dh[b * H + j] * (T(1) - z) * (T(1) - n * n);
      }
    }
    s.w->extra.run(s.block, s.dg_hh + 2 * H, drh);  // drh = da_n W_hn
  }
  for (int64_t b = 0; b < B; ++b) {
    const T* cache = s.cache + b * W;
    T* dgi = s.dg_ih + b * G3;
    T* dgh = s.dg_hh + b * G3;
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = b * H + j;
      const T r = cache[j], z = cache[H + j], n = cache[2 * H + j], dh = s.dh[k];
      const T h_prev = s.h_prev[k];
      const T da_n = dh * (T(1) - z) * (T(1) - n * n);
      const T da_z = dh * (h_prev - n) * z * (T(1) - z);
      T da_r, dh_prev = dh * z;
      if (after) {
        da_r = da_n * cache[3 * H + j] * r * (T(1) - r);
        dgh[2 * H + j] = da_n * r;
      } else {
        da_r = drh[k] * h_prev * r * (T(1) - r);
        dh_prev += drh[k] * r;
        dgh[2 * H + j] = da_n;
      }
      dgi[j] = dgh[j] = da_r;
      dgi[H + j] = dgh[H + j] = da_z;
      dgi[2 * H + j] = da_n;
      s.dh_prev[k] = dh_prev;
    }
  }
  // dh_prev += dg_hh W_hh over the blocks that saw h_prev directly.
  s.w->main.run(s.block, s.dg_hh, s.dh_prev);
}

template <class T>
void gru_hh_weight_grads(RnnCellParams<T>& grads, const T* dg_hh, const T* h_prev, const T* cache,
                         const RnnConfig& cfg, int64_t N, Precision precision) {
  if (cfg.gru == GruConvention::reset_after) {
    hh_weight_grads_plain(grads, dg_hh, h_prev, cache, cfg, N, precision);
    return;
  }
  const int64_t H = cfg.hidden_size, G3 = 3 * H, W = 4 * H;
  gemm<T>(precision, true, false, 2 * H, H, N, T(1), dg_hh, G3, h_prev, H, T(1), grads.w_hh.ptr(),
          H);
  gemm<T>(precision, true, false, H, H, N, T(1), dg_hh + 2 * H, G3, cache + 3 * H, W, T(1),
          grads.w_hh.ptr() + 2 * H * H, H);
  add_column_sums(grads.b_hh.ptr(), dg_hh, N, G3, G3);
}

}  // namespace

template <class T>
CellOps<T> gru_ops() {
  return {&gru_cache_width<T>, &gru_pack<T>, &gru_hh_grads_differ, &gru_forward_step<T>, &gru_backward_step<T>,
          &gru_hh_weight_grads<T>, &gru_fold_input_bias<T>};
}

template CellOps<float> gru_ops<float>();
template CellOps<double> gru_ops<double>();

}  // namespace recur::cells
