// Layer-normalised GRU, reset_after convention (PyTorch's), per gate: the recurrent form of the
// seeds' batch normalisation remedy. Gate order r, z, n.
//
// Key: B = batch, H = hidden size, G = 3. Per-unit parameters ln (6H) = gamma (3H), beta (3H).
// cache (B, 7H + 3) = gates r z n (3H), normalised pre-activations (3H), h_n (H), three 1/sigma.
//   (h_r, h_z, h_n) = h_prev W_hh^T + b_hh
//   r = sigma(LN_r(x_r + h_r));  z = sigma(LN_z(x_z + h_z));  n = tanh(LN_n(x_n + r * h_n))
//   h = (1 - z) * n + z * h_prev
// Backward:
//   da~_n = dh (1 - z)(1 - n^2);  da~_z = dh (h_prev - n) z (1 - z);  da_q = LN_back(da~_q)
//   da~_r = da_n h_n r (1 - r)
//   dg_ih = (da_r, da_z, da_n);  dg_hh = (da_r, da_z, da_n * r);  dh_prev = dh z + dg_hh W_hh
// Parameters +=, activations = (see cell.h).
#include "cells/cell.h"
#include "cells/layer_norm.h"
#include "kernels/cpu/activations.h"
#include "recur/core/gemm.h"

namespace recur::cells {
namespace {

template <class T>
int64_t ln_gru_cache_width(const RnnConfig& cfg) {
  return 7 * cfg.hidden_size + 3;
}

bool ln_gru_hh_grads_differ(const RnnConfig&) { return true; }


template <class T>
void ln_gru_forward_step(const StepForward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                         int64_t B) {
  const int64_t H = cfg.hidden_size, G3 = 3 * H, W = 7 * H + 3;
  s.w->main.run(s.block, s.product_input(), s.scratch);  // h_prev W_hh^T + b_hh
  const T* gamma = p.ln.ptr();
  const T* beta = gamma + G3;
  for (int64_t b = 0; b < B; ++b) {
    const T* xw = s.xw + b * G3;
    const T* hw = s.scratch + b * G3;
    T* cache = s.cache + b * W;
    T *gates = cache, *xhat = cache + G3, *h_n = cache + 2 * G3, *inv = h_n + H;
    T *r = gates, *z = gates + H, *n = gates + 2 * H;
    std::copy_n(hw + 2 * H, H, h_n);
    for (int64_t k = 0; k < 2 * H; ++k) gates[k] = xw[k] + hw[k];
    for (int64_t q = 0; q < 2; ++q)
      inv[q] = layer_norm_forward(gates + q * H, xhat + q * H, gates + q * H, gamma + q * H, beta + q * H, H);
    for (int64_t j = 0; j < 2 * H; ++j) gates[j] = cpu::sigmoid(gates[j]);
    for (int64_t j = 0; j < H; ++j) n[j] = xw[2 * H + j] + r[j] * h_n[j];
    inv[2] = layer_norm_forward(n, xhat + 2 * H, n, gamma + 2 * H, beta + 2 * H, H);
    const T* hp = s.h_prev + b * H;
    T* h = s.h + b * H;
    for (int64_t j = 0; j < H; ++j) {
      n[j] = std::tanh(n[j]);
      h[j] = (T(1) - z[j]) * n[j] + z[j] * hp[j];
    }
  }
}

template <class T>
void ln_gru_backward_step(const StepBackward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                          int64_t B) {
  const int64_t H = cfg.hidden_size, G3 = 3 * H, W = 7 * H + 3;
  const T* gamma = p.ln.ptr();
  T* dgamma = s.dunit;
  T* dbeta = dgamma + G3;
  T* dt = s.scratch;  // (3H) d a~ of one row
  for (int64_t b = 0; b < B; ++b) {
    const T* cache = s.cache + b * W;
    const T *gates = cache, *xhat = cache + G3, *h_n = cache + 2 * G3, *inv = h_n + H;
    const T *r = gates, *z = gates + H, *n = gates + 2 * H;
    const T* dh = s.dh + b * H;
    const T* hp = s.h_prev + b * H;
    T* da = s.dg_ih + b * G3;
    T* dhh = s.dg_hh + b * G3;
    for (int64_t j = 0; j < H; ++j) {
      dt[H + j] = dh[j] * (hp[j] - n[j]) * z[j] * (T(1) - z[j]);
      dt[2 * H + j] = dh[j] * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
    }
    for (int64_t q = 1; q < 3; ++q)
      layer_norm_backward(da + q * H, dgamma + q * H, dbeta + q * H, dt + q * H, xhat + q * H,
                          gamma + q * H, inv[q], H);
    for (int64_t j = 0; j < H; ++j) dt[j] = da[2 * H + j] * h_n[j] * r[j] * (T(1) - r[j]);
    layer_norm_backward(da, dgamma, dbeta, dt, xhat, gamma, inv[0], H);
    for (int64_t j = 0; j < 2 * H; ++j) dhh[j] = da[j];
    for (int64_t j = 0; j < H; ++j) dhh[2 * H + j] = da[2 * H + j] * r[j];
    for (int64_t j = 0; j < H; ++j) s.dh_prev[b * H + j] = dh[j] * z[j];
  }
  s.w->main.run(s.block, s.dg_hh, s.dh_prev);  // dh_prev += dG_hh W_hh
}

}  // namespace

template <class T>
CellOps<T> ln_gru_ops() {
  return {&ln_gru_cache_width<T>, &pack_plain<T, true>, &ln_gru_hh_grads_differ, &ln_gru_forward_step<T>,
          &ln_gru_backward_step<T>, &hh_weight_grads_plain<T>};
}

template CellOps<float> ln_gru_ops<float>();
template CellOps<double> ln_gru_ops<double>();

}  // namespace recur::cells
