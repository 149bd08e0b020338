// Simple (Elman) RNN cell: h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), f in {tanh, ReLU, sigmoid}.
//
// Key: B = batch, H = hidden size. G = 1, cache: none (f' is read off h_t itself).
//   forward:  a = xw + h_prev W_hh^T + b_hh        (B,H)
//             h = f(a)
//   backward: da = dh * f'(a), with f'(a) = 1 - h^2 (tanh), [h > 0] (ReLU), h (1 - h) (sigmoid)
//             dh_prev = da W_hh
//             dg_ih = dg_hh = da
// Parameters +=, activations = (see cell.h).
#include "cells/cell.h"
#include "kernels/cpu/activations.h"
#include "recur/core/gemm.h"

namespace recur::cells {
namespace {

template <class T>
int64_t rnn_cache_width(const RnnConfig&) {
  return 0;
}

// f'(a) expressed through h = f(a).
template <class T>
T activation_grad(CellKind kind, T h) {
  switch (kind) {
    case CellKind::rnn_relu: return h > T(0) ? T(1) : T(0);
    case CellKind::rnn_sigmoid: return h * (T(1) - h);
    default: return T(1) - h * h;
  }
}

template <class T>
void rnn_forward_step(const StepForward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                      int64_t B) {
  const int64_t H = cfg.hidden_size;
  broadcast_rows(s.scratch, p.b_hh.ptr(), B, H, H);
  gemm<T>(false, true, B, H, H, T(1), s.h_prev, H, p.w_hh.ptr(), H, T(1), s.scratch, H);
  const int64_t n = B * H;
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) s.h[k] = s.xw[k] + s.scratch[k];
  switch (cfg.cell) {
    case CellKind::rnn_relu:
#pragma omp simd
      for (int64_t k = 0; k < n; ++k) s.h[k] = s.h[k] > T(0) ? s.h[k] : T(0);
      break;
    case CellKind::rnn_sigmoid: cpu::sigmoid_inplace(s.h, n); break;
    default: cpu::tanh_inplace(s.h, n);
  }
}

template <class T>
void rnn_backward_step(const StepBackward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                       int64_t B) {
  const int64_t H = cfg.hidden_size;
  for (int64_t k = 0; k < B * H; ++k) {
    s.dg_ih[k] = s.dh[k] * activation_grad(cfg.cell, s.h[k]);  // dg_hh is the same buffer
  }
  gemm<T>(false, false, B, H, H, T(1), s.dg_ih, H, p.w_hh.ptr(), H, T(0), s.dh_prev, H);
}

}  // namespace

template <class T>
void hh_weight_grads_plain(RnnCellParams<T>& grads, const T* dg_hh, const T* h_prev, const T*,
                           const RnnConfig& cfg, int64_t N) {
  const int64_t H = cfg.hidden_size, GH = cfg.gates() * H;
  gemm<T>(true, false, GH, H, N, T(1), dg_hh, GH, h_prev, H, T(1), grads.w_hh.ptr(), H);
  add_column_sums(grads.b_hh.ptr(), dg_hh, N, GH, GH);
}

template <class T>
CellOps<T> rnn_ops() {
  return {&rnn_cache_width<T>, &hh_grads_same, &rnn_forward_step<T>, &rnn_backward_step<T>,
          &hh_weight_grads_plain<T>};
}

template CellOps<float> rnn_ops<float>();
template CellOps<double> rnn_ops<double>();
template void hh_weight_grads_plain<float>(RnnCellParams<float>&, const float*, const float*,
                                           const float*, const RnnConfig&, int64_t);
template void hh_weight_grads_plain<double>(RnnCellParams<double>&, const double*, const double*,
                                            const double*, const RnnConfig&, int64_t);

}  // namespace recur::cells
