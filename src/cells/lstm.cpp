// LSTM cell, gate order i, f, g, o, with optional peepholes and coupled input/forget gate.
//
// Key: B = batch, H = hidden size, G = 4. cache (B,5H) = gates (i, f, g, o) and tanh(c).
//   a = xw + h_prev W_hh^T + b_hh                       (B,4H), blocks a_i a_f a_g a_o
//   i = sigma(a_i + p_i * c_prev)      (coupled: i = 1 - f; the i rows of the weights are unused)
//   f = sigma(a_f + p_f * c_prev)
//   g = tanh(a_g)
//   c = f * c_prev + i * g
//   o = sigma(a_o + p_o * c)           (peepholes p = (p_i, p_f, p_o), each (H); zero without them)
//   h = o * tanh(c)
// Backward, given dh and dc (gradient w.r.t. this step's h and c):
//   do  = dh * tanh(c);            da_o = do * o (1 - o)
//   dc' = dc + dh * o * (1 - tanh(c)^2) + da_o * p_o      (total gradient w.r.t. c)
//   dg  = dc' * i;                 da_g = dg * (1 - g^2)
//   di  = dc' * g;   df = dc' * c_prev
//   coupled: df -= di, da_i = 0    else da_i = di * i (1 - i)
//   da_f = df * f (1 - f)
//   dc_prev = dc' * f + da_i * p_i + da_f * p_f
//   dh_prev = [da_i da_f da_g da_o] W_hh;   dp_i += da_i c_prev, dp_f += da_f c_prev, dp_o += da_o c
// Parameters +=, activations = (see cell.h).
#include <type_traits>

#include "cells/cell.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/simd.h"
#include "recur/core/gemm.h"

namespace recur::cells {
namespace {

template <class T>
int64_t lstm_cache_width(const RnnConfig& cfg) {
  return 5 * cfg.hidden_size;
}

// The plain LSTM's pointwise step in one pass over the units: each lane reads its four
// pre-activations, writes c and h, and, when backward follows, the gates and tanh(c).
template <bool KeepCache>
void lstm_pointwise_fused(const StepForward<float>& s, int64_t H, int64_t B) {
  using cpu::simd::Vf;
  const int64_t ld = s.ld ? s.ld : H;
  for (int64_t b = 0; b < B; ++b) {
    const float* xw = s.xw + b * 4 * H;
    const float* hw = s.scratch + b * 4 * H;
    const float* c_prev = s.c_prev + b * ld;
    float* c = s.c + b * ld;
    float* h = s.h + b * ld;
    float* gates = s.cache + b * 5 * H;
    const float* next = s.xw_next ? s.xw_next + b * 4 * H : nullptr;
    cpu::simd::for_vectors(H, [&](const cpu::simd::Lanes& v) {
      if (next)
        for (int k = 0; k < 4; ++k) cpu::simd::prefetch_l2(next + k * H + v.j);
      const Vf i = cpu::simd::sigmoid(v.load(xw) + v.load(hw));
      const Vf f = cpu::simd::sigmoid(v.load(xw + H) + v.load(hw + H));
      const Vf g = cpu::simd::tanh(v.load(xw + 2 * H) + v.load(hw + 2 * H));
      const Vf o = cpu::simd::sigmoid(v.load(xw + 3 * H) + v.load(hw + 3 * H));
      const Vf cn = cpu::simd::hn::MulAdd(f, v.load(c_prev), i * g);
      const Vf tc = cpu::simd::tanh(cn);
      if constexpr (KeepCache) {
        v.store(gates, i);
        v.store(gates + H, f);
        v.store(gates + 2 * H, g);
        v.store(gates + 3 * H, o);
        v.store(gates + 4 * H, tc);
      }
      v.store(c, cn);
      v.store(h, o * tc);
    });
  }
}

template <class T>
void lstm_forward_step(const StepForward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                       int64_t B) {
  const int64_t H = cfg.hidden_size, G4 = 4 * H, W = 5 * H;
  s.w->main.run(s.block, s.product_input(), s.scratch);  // h_prev W_hh^T + b_hh
  const T* peep = cfg.peephole ? p.w_peep.ptr() : nullptr;
  if constexpr (std::is_same_v<T, float>) {
    if (!peep && !cfg.coupled)
      return s.keep_cache ? lstm_pointwise_fused<true>(s, H, B)
                          : lstm_pointwise_fused<false>(s, H, B);
  }
  for (int64_t b = 0; b < B; ++b) {
    const T* xw = s.xw + b * G4;
    const T* hw = s.scratch + b * G4;
    const T* c_prev = s.c_prev + b * H;
    T* c = s.c + b * H;
    T* h = s.h + b * H;
    T* a = s.cache + b * W;  // pre-activations, turned into gates in place
    T *i = a, *f = a + H, *g = a + 2 * H, *o = a + 3 * H, *tc = a + 4 * H;
#pragma omp simd
    for (int64_t k = 0; k < G4; ++k) a[k] = xw[k] + hw[k];
    if (peep) {
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) {
        i[j] += peep[j] * c_prev[j];
        f[j] += peep[H + j] * c_prev[j];
      }
    }
    cpu::sigmoid_inplace(i, 2 * H);  // i and f
    cpu::tanh_inplace(g, H);
    if (cfg.coupled) {
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) i[j] = T(1) - f[j];
    }
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) c[j] = f[j] * c_prev[j] + i[j] * g[j];
    if (peep) {
#pragma omp simd
      for (int64_t j = 0; j < H; ++j) o[j] += peep[2 * H + j] * c[j];
    }
    cpu::sigmoid_inplace(o, H);
    std::copy_n(c, H, tc);
    cpu::tanh_inplace(tc, H);
#pragma omp simd
    for (int64_t j = 0; j < H; ++j) h[j] = o[j] * tc[j];
  }
}

// The plain LSTM's backward pointwise step in one pass over the units: the four pre-activation
// gradients and dc_prev from the gates and tanh(c) the forward kept.
void lstm_backward_pointwise_fused(const StepBackward<float>& s, int64_t H, int64_t B) {
  using cpu::simd::Vf;
  const Vf one = cpu::simd::hn::Set(cpu::simd::Df(), 1.0f);
  for (int64_t b = 0; b < B; ++b) {
    const float* gates = s.cache + b * 5 * H;
    const float* dh = s.dh + b * H;
    const float* dc_in = s.dc + b * H;
    const float* c_prev = s.c_prev + b * H;
    float* da = s.dg_ih + b * 4 * H;
    float* dc_prev = s.dc_prev + b * H;
    cpu::simd::for_vectors(H, [&](const cpu::simd::Lanes& v) {
      const Vf i = v.load(gates), f = v.load(gates + H), g = v.load(gates + 2 * H);
      const Vf o = v.load(gates + 3 * H), tc = v.load(gates + 4 * H), d = v.load(dh);
      const Vf dc = cpu::simd::hn::MulAdd(d * o, cpu::simd::hn::NegMulAdd(tc, tc, one),
                                          v.load(dc_in));
      v.store(da, dc * g * i * (one - i));
      v.store(da + H, dc * v.load(c_prev) * f * (one - f));
      v.store(da + 2 * H, dc * i * cpu::simd::hn::NegMulAdd(g, g, one));
      v.store(da + 3 * H, d * tc * o * (one - o));
      v.store(dc_prev, dc * f);
    });
  }
}

template <class T>
void lstm_backward_step(const StepBackward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                        int64_t B) {
  const int64_t H = cfg.hidden_size, G4 = 4 * H, W = 5 * H;
  const T* peep = cfg.peephole ? p.w_peep.ptr() : nullptr;
  if constexpr (std::is_same_v<T, float>) {
    if (!peep && !cfg.coupled) {
      lstm_backward_pointwise_fused(s, H, B);
      s.w->main.run(s.block, s.dg_ih, s.dh_prev);  // dh_prev = dG W_hh
      return;
    }
  }
  for (int64_t b = 0; b < B; ++b) {
    const T* gates = s.cache + b * W;
    T* da = s.dg_ih + b * G4;
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = b * H + j;
      const T i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
      const T c = s.c[k], c_prev = s.c_prev[k], tc = gates[4 * H + j], dh = s.dh[k];
      const T da_o = dh * tc * o * (T(1) - o);
      const T dc = s.dc[k] + dh * o * (T(1) - tc * tc) + (peep ? da_o * peep[2 * H + j] : T(0));
      const T da_g = dc * i * (T(1) - g * g);
      const T di = dc * g;
      T df = dc * c_prev;
      T da_i = T(0);
      if (cfg.coupled) {
        df -= di;
      } else {
        da_i = di * i * (T(1) - i);
      }
      const T da_f = df * f * (T(1) - f);
      T dc_prev = dc * f;
      if (peep) {
        dc_prev += da_i * peep[j] + da_f * peep[H + j];
        s.dunit[j] += da_i * c_prev;
        s.dunit[H + j] += da_f * c_prev;
        s.dunit[2 * H + j] += da_o * c;
      }
      s.dc_prev[k] = dc_prev;
      da[j] = da_i;
      da[H + j] = da_f;
      da[2 * H + j] = da_g;
      da[3 * H + j] = da_o;
    }
  }
  // dg_hh is the same buffer as dg_ih.
  s.w->main.run(s.block, s.dg_ih, s.dh_prev);  // dh_prev = dG W_hh
}

}  // namespace

template <class T>
CellOps<T> lstm_ops() {
  return {&lstm_cache_width<T>, &pack_plain<T, false, true>, &hh_grads_same, &lstm_forward_step<T>,
          &lstm_backward_step<T>, &hh_weight_grads_plain<T>, &fold_sum<T>};
}

template CellOps<float> lstm_ops<float>();
template CellOps<double> lstm_ops<double>();

}  // namespace recur::cells
