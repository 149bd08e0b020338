// Simple (Elman) RNN cell: h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), f in {tanh, ReLU, sigmoid, identity};
// optionally leaky units or a residual recurrence (the seeds' remedies for long memory):
//   plain     h = v                                  v = f(a)
//   leaky     h = (1 - alpha) h_prev + alpha v       alpha = cfg.leak (or its unit's group's),
//                                                    or sigmoid(lambda) per unit
//   residual  h = h_prev + alpha v                   a scaled residual branch (alpha as above)
//
// Key: B = batch, H = hidden size. G = 1, cache: none for the plain cell (f' is read off h_t
// itself), v (B,H) when the state is mixed.
//   forward:  a = xw + h_prev W_hh^T + b_hh        (B,H)
//             v = f(a), h as above
//   backward: dv = alpha dh (leaky, residual), dh (plain)
//             da = dv * f'(a), with f'(a) = 1 - v^2 (tanh), [v > 0] (ReLU), v (1 - v) (sigmoid)
//             dh_prev = da W_hh + (1 - alpha) dh (leaky) or + dh (residual)
//             dlambda_j += sum_b dh_j (v_j - h_prev_j) alpha_j (1 - alpha_j)   (learned leak)
//             dlambda_j += sum_b dh_j v_j alpha_j (1 - alpha_j)                (learned residual)
//             dg_ih = dg_hh = da
// Parameters +=, activations = (see cell.h).
#include <cmath>

#include "cells/cell.h"
#include "cells/rnn_activation.h"
#include "kernels/cpu/activations.h"
#include "recur/core/gemm.h"

namespace recur::cells {
namespace {

template <class T>
int64_t rnn_cache_width(const RnnConfig& cfg) {
  return cfg.mixes_state() ? cfg.hidden_size : 0;
}

// alpha of unit j: the learned sigmoid(lambda_j), or the fixed leak (of its group).
template <class T>
T leak_of(const RnnCellParams<T>& p, const RnnConfig& cfg, int64_t j) {
  return cfg.learn_leak ? T(1) / (T(1) + std::exp(-p.leak[j])) : T(cfg.leak_of(j));
}

template <class T>
void rnn_forward_step(const StepForward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                      int64_t B) {
  const int64_t H = cfg.hidden_size;
  s.w->main.run(s.block, s.product_input(), s.scratch);  // h_prev W_hh^T + b_hh
  const int64_t n = B * H;
  T* v = cfg.mixes_state() ? s.cache : s.h;
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) v[k] = s.xw[k] + s.scratch[k];
  switch (cfg.cell) {
    case CellKind::rnn_relu:
#pragma omp simd
      for (int64_t k = 0; k < n; ++k) v[k] = v[k] > T(0) ? v[k] : T(0);
      break;
    case CellKind::rnn_sigmoid: cpu::sigmoid_inplace(v, n); break;
    case CellKind::rnn_linear: break;
    default: cpu::tanh_inplace(v, n);
  }
  if (!cfg.mixes_state()) return;
  for (int64_t j = 0; j < H; ++j) {
    const T alpha = leak_of(p, cfg, j);
    const T keep = cfg.residual ? T(1) : T(1) - alpha;
    for (int64_t b = 0; b < B; ++b) s.h[b * H + j] = keep * s.h_prev[b * H + j] + alpha * v[b * H + j];
  }
}

template <class T>
void rnn_backward_step(const StepBackward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                       int64_t B) {
  const int64_t H = cfg.hidden_size;
  if (!cfg.mixes_state()) {
    for (int64_t k = 0; k < B * H; ++k)
      s.dg_ih[k] = s.dh[k] * rnn_activation_grad(cfg.cell, s.h[k]);  // dg_hh is the same buffer
    s.w->main.run(s.block, s.dg_ih, s.dh_prev);  // dh_prev = dG W_hh
    return;
  }
  const T* v = s.cache;
  for (int64_t j = 0; j < H; ++j) {
    const T alpha = leak_of(p, cfg, j);
    T dlambda = T(0);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t k = b * H + j;
      s.dg_ih[k] = alpha * s.dh[k] * rnn_activation_grad(cfg.cell, v[k]);
      if (cfg.learn_leak) dlambda += s.dh[k] * (cfg.residual ? v[k] : v[k] - s.h_prev[k]);
    }
    if (cfg.learn_leak) s.dunit[j] += dlambda * alpha * (T(1) - alpha);
  }
  s.w->main.run(s.block, s.dg_ih, s.dh_prev);
  for (int64_t j = 0; j < H; ++j) {
    const T keep = cfg.residual ? T(1) : T(1) - leak_of(p, cfg, j);
    for (int64_t b = 0; b < B; ++b) s.dh_prev[b * H + j] += keep * s.dh[b * H + j];
  }
}

}  // namespace

template <class T>
void hh_weight_grads_plain(RnnCellParams<T>& grads, const T* dg_hh, const T* h_prev, const T*,
                           const RnnConfig& cfg, int64_t N, Precision precision) {
  const int64_t H = cfg.hidden_size, GH = cfg.gates() * H;
  gemm<T>(precision, true, false, GH, H, N, T(1), dg_hh, GH, h_prev, H, T(1), grads.w_hh.ptr(), H);
  add_column_sums(grads.b_hh.ptr(), dg_hh, N, GH, GH);
}

template <class T>
CellOps<T> rnn_ops() {
  return {&rnn_cache_width<T>, &pack_plain<T, false, true>, &hh_grads_same, &rnn_forward_step<T>,
          &rnn_backward_step<T>, &hh_weight_grads_plain<T>, &fold_sum<T>};
}

template CellOps<float> rnn_ops<float>();
template CellOps<double> rnn_ops<double>();
template void hh_weight_grads_plain<float>(RnnCellParams<float>&, const float*, const float*,
                                           const float*, const RnnConfig&, int64_t,
                                           Precision);
template void hh_weight_grads_plain<double>(RnnCellParams<double>&, const double*, const double*,
                                            const double*, const RnnConfig&, int64_t,
                                            Precision);

}  // namespace recur::cells
