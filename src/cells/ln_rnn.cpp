// Layer-normalised simple RNN: the pre-activation is normalised over the units before f, as in
// Ba et al. (2016); with the state mixing of rnn.cpp (leaky units, the residual recurrence), so
// that h = h_prev + alpha f(LN(z)) keeps every step's update on one scale.
//
// Key: B = batch, H = hidden size, G = 1. Per-unit parameters ln (2H) = gamma (H), beta (H).
// cache (B, 2H + 1) = normalised pre-activation xhat (H), v (H), 1/sigma.
//   a = xw + h_prev W_hh^T + b_hh;  v = f(LN(a)) = f(gamma * xhat + beta)
//   plain h = v;  leaky h = (1 - alpha) h_prev + alpha v;  residual h = h_prev + alpha v
// Backward:
//   dv = dh (plain) or alpha dh;  du = dv * f'(v);  da = LN_back(du) (dgamma, dbeta accumulate)
//   dg_ih = dg_hh = da;  dh_prev = da W_hh (+ (1 - alpha) dh leaky, + dh residual)
// alpha is the fixed leak (a learned leak and ln are not combined: one per-unit tensor a cell).
// Parameters +=, activations = (see cell.h).
#include <cmath>

#include "cells/cell.h"
#include "cells/layer_norm.h"
#include "cells/rnn_activation.h"

namespace recur::cells {
namespace {

template <class T>
int64_t ln_rnn_cache_width(const RnnConfig& cfg) {
  return 2 * cfg.hidden_size + 1;
}

template <class T>
void ln_rnn_forward_step(const StepForward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                         int64_t B) {
  const int64_t H = cfg.hidden_size, W = 2 * H + 1;
  s.w->main.run(s.block, s.product_input(), s.scratch);  // h_prev W_hh^T + b_ih + b_hh
  const T* gamma = p.ln.ptr();
  const T* beta = gamma + H;
  for (int64_t b = 0; b < B; ++b) {
    T* a = s.scratch + b * H;
    T *xhat = s.cache + b * W, *v = xhat + H;
    for (int64_t j = 0; j < H; ++j) a[j] += s.xw[b * H + j];
    xhat[2 * H] = layer_norm_forward(a, xhat, a, gamma, beta, H);
    const T* hp = s.h_prev + b * H;
    T* h = s.h + b * H;
    for (int64_t j = 0; j < H; ++j) {
      v[j] = rnn_activate(cfg.cell, a[j]);
      const T alpha = T(cfg.leak_of(j)), keep = cfg.residual ? T(1) : T(1) - alpha;
      h[j] = cfg.mixes_state() ? keep * hp[j] + alpha * v[j] : v[j];
    }
  }
}

template <class T>
void ln_rnn_backward_step(const StepBackward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                          int64_t B) {
  const int64_t H = cfg.hidden_size, W = 2 * H + 1;
  const T* gamma = p.ln.ptr();
  T* dgamma = s.dunit;
  T* dbeta = dgamma + H;
  auto alpha = [&](int64_t j) { return cfg.mixes_state() ? T(cfg.leak_of(j)) : T(1); };
  T* du = s.scratch;  // (H) of one row
  for (int64_t b = 0; b < B; ++b) {
    const T *xhat = s.cache + b * W, *v = xhat + H;
    const T* dh = s.dh + b * H;
    for (int64_t j = 0; j < H; ++j) du[j] = alpha(j) * dh[j] * rnn_activation_grad(cfg.cell, v[j]);
    layer_norm_backward(s.dg_ih + b * H, dgamma, dbeta, du, xhat, gamma, xhat[2 * H], H);
  }
  s.w->main.run(s.block, s.dg_ih, s.dh_prev);  // dh_prev = dG W_hh
  if (!cfg.mixes_state()) return;
  for (int64_t k = 0; k < B * H; ++k) s.dh_prev[k] += (cfg.residual ? T(1) : T(1) - alpha(k % H)) * s.dh[k];
}

}  // namespace

template <class T>
CellOps<T> ln_rnn_ops() {
  return {&ln_rnn_cache_width<T>, &pack_plain<T, false, true>, &hh_grads_same, &ln_rnn_forward_step<T>,
          &ln_rnn_backward_step<T>, &hh_weight_grads_plain<T>, &fold_sum<T>};
}

template CellOps<float> ln_rnn_ops<float>();
template CellOps<double> ln_rnn_ops<double>();

}  // namespace recur::cells
