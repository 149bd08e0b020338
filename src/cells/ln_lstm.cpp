// Layer-normalised LSTM (Ba et al. 2016, per gate): the recurrent form of the seeds' batch
// normalisation remedy. Gate order i, f, g, o; no peepholes, no coupled gates.
//
// Key: B = batch, H = hidden size, G = 4. Per-unit parameters ln (10H) = gamma (4H), beta (4H) of
// the gates, gamma_c (H), beta_c (H) of the cell state.
// cache (B, 10H + 5) = gates i f g o (4H), normalised pre-activations (4H), chat (H), tanh(c~) (H),
//                      the four gates' 1/sigma and the cell's 1/sigma.
//   a = xw + h_prev W_hh^T + b_hh                       (B,4H), blocks a_q for q in i, f, g, o
//   a~_q = LN(a_q; gamma_q, beta_q)                     normalised over the H units of the gate
//   i = sigma(a~_i), f = sigma(a~_f), g = tanh(a~_g), o = sigma(a~_o)
//   c = f * c_prev + i * g                               (carried unnormalised)
//   c~ = LN(c; gamma_c, beta_c),  h = o * tanh(c~)
// Backward, given dh and dc:
//   da~_o = dh tanh(c~) o (1 - o);   dc~ = dh o (1 - tanh^2 c~);   dc' = dc + LN_back(dc~)
//   da~_g = dc' i (1 - g^2);  da~_i = dc' g i (1 - i);  da~_f = dc' c_prev f (1 - f)
//   dc_prev = dc' f;   da_q = LN_back(da~_q);   dh_prev = da W_hh;   dg_ih = dg_hh = da
// Parameters +=, activations = (see cell.h).
#include "cells/cell.h"
#include "cells/layer_norm.h"
#include "kernels/cpu/activations.h"
#include "recur/core/gemm.h"

namespace recur::cells {
namespace {

template <class T>
int64_t ln_lstm_cache_width(const RnnConfig& cfg) {
  return 10 * cfg.hidden_size + 5;
}


template <class T>
void ln_lstm_forward_step(const StepForward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                          int64_t B) {
  const int64_t H = cfg.hidden_size, G4 = 4 * H, W = 10 * H + 5;
  s.w->main.run(s.block, s.product_input(), s.scratch);  // h_prev W_hh^T + b_hh
  const T* gamma = p.ln.ptr();
  const T* beta = gamma + G4;
  const T* gamma_c = beta + G4;
  const T* beta_c = gamma_c + H;
  for (int64_t b = 0; b < B; ++b) {
    T* a = s.scratch + b * G4;
    const T* xw = s.xw + b * G4;
    for (int64_t k = 0; k < G4; ++k) a[k] += xw[k];
    T* cache = s.cache + b * W;
    T *gates = cache, *xhat = cache + G4, *chat = cache + 2 * G4, *tc = chat + H, *inv = tc + H;
    for (int64_t q = 0; q < 4; ++q)
      inv[q] = layer_norm_forward(gates + q * H, xhat + q * H, a + q * H, gamma + q * H, beta + q * H, H);
    T *i = gates, *f = gates + H, *g = gates + 2 * H, *o = gates + 3 * H;
    const T* c_prev = s.c_prev + b * H;
    T* c = s.c + b * H;
    for (int64_t j = 0; j < H; ++j) {
      i[j] = cpu::sigmoid(i[j]);
      f[j] = cpu::sigmoid(f[j]);
      g[j] = std::tanh(g[j]);
      o[j] = cpu::sigmoid(o[j]);
      c[j] = f[j] * c_prev[j] + i[j] * g[j];
    }
    inv[4] = layer_norm_forward(tc, chat, c, gamma_c, beta_c, H);
    T* h = s.h + b * H;
    for (int64_t j = 0; j < H; ++j) {
      tc[j] = std::tanh(tc[j]);
      h[j] = o[j] * tc[j];
    }
  }
}

template <class T>
void ln_lstm_backward_step(const StepBackward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                           int64_t B) {
  const int64_t H = cfg.hidden_size, G4 = 4 * H, W = 10 * H + 5;
  const T* gamma = p.ln.ptr();
  const T* gamma_c = gamma + 2 * G4;
  T* dgamma = s.dunit;
  T* dbeta = dgamma + G4;
  T* dgamma_c = dbeta + G4;
  T* dbeta_c = dgamma_c + H;
  T* dtilde = s.scratch;  // (4H) per row, then (H) for the cell
  for (int64_t b = 0; b < B; ++b) {
    const T* cache = s.cache + b * W;
    const T *gates = cache, *xhat = cache + G4, *chat = cache + 2 * G4, *tc = chat + H, *inv = tc + H;
    const T *i = gates, *f = gates + H, *g = gates + 2 * H, *o = gates + 3 * H;
    const T* dh = s.dh + b * H;
    const T* c_prev = s.c_prev + b * H;
    T* da = s.dg_ih + b * G4;
    // dc~ into dtilde (H), then through the cell's LN into da's o block as scratch.
    for (int64_t j = 0; j < H; ++j) dtilde[j] = dh[j] * o[j] * (T(1) - tc[j] * tc[j]);
    T* dc_ln = da + 3 * H;
    layer_norm_backward(dc_ln, dgamma_c, dbeta_c, dtilde, chat, gamma_c, inv[4], H);
    T* dt = dtilde;  // (4H): d a~
    for (int64_t j = 0; j < H; ++j) {
      const T dc = s.dc[b * H + j] + dc_ln[j];
      dt[j] = dc * g[j] * i[j] * (T(1) - i[j]);
      dt[H + j] = dc * c_prev[j] * f[j] * (T(1) - f[j]);
      dt[2 * H + j] = dc * i[j] * (T(1) - g[j] * g[j]);
      dt[3 * H + j] = dh[j] * tc[j] * o[j] * (T(1) - o[j]);
      s.dc_prev[b * H + j] = dc * f[j];
    }
    for (int64_t q = 0; q < 4; ++q)
      layer_norm_backward(da + q * H, dgamma + q * H, dbeta + q * H, dt + q * H, xhat + q * H,
                          gamma + q * H, inv[q], H);
  }
  s.w->main.run(s.block, s.dg_ih, s.dh_prev);  // dh_prev = dG W_hh
}

}  // namespace

template <class T>
CellOps<T> ln_lstm_ops() {
  return {&ln_lstm_cache_width<T>, &pack_plain<T, false>, &hh_grads_same, &ln_lstm_forward_step<T>, &ln_lstm_backward_step<T>,
          &hh_weight_grads_plain<T>};
}

template CellOps<float> ln_lstm_ops<float>();
template CellOps<double> ln_lstm_ops<double>();

}  // namespace recur::cells
