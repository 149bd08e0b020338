// LSTM cell, gate order i, f, g, o, with optional peepholes and coupled input/forget gate.
//
// Key: B = batch, H = hidden size, G = 4. cache (B,4H) = post-activation gates (i, f, g, o).
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
#include "cells/cell.h"
#include "recur/core/gemm.h"

namespace recur::cells {
namespace {

template <class T>
int64_t lstm_cache_width(const RnnConfig& cfg) {
  return 4 * cfg.hidden_size;
}

template <class T>
void lstm_forward_step(const StepForward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                       int64_t B) {
  const int64_t H = cfg.hidden_size, G4 = 4 * H;
  broadcast_rows(s.scratch, p.b_hh.ptr(), B, G4, G4);
  gemm<T>(false, true, B, G4, H, T(1), s.h_prev, H, p.w_hh.ptr(), H, T(1), s.scratch, G4);
  const T* peep = cfg.peephole ? p.w_peep.ptr() : nullptr;
  for (int64_t b = 0; b < B; ++b) {
    const T* xw = s.xw + b * G4;
    const T* hw = s.scratch + b * G4;
    T* gates = s.cache + b * G4;
    for (int64_t j = 0; j < H; ++j) {
      const T c_prev = s.c_prev[b * H + j];
      const T pi = peep ? peep[j] * c_prev : T(0);
      const T pf = peep ? peep[H + j] * c_prev : T(0);
      const T f = sigmoid(xw[H + j] + hw[H + j] + pf);
      const T i = cfg.coupled ? T(1) - f : sigmoid(xw[j] + hw[j] + pi);
      const T g = std::tanh(xw[2 * H + j] + hw[2 * H + j]);
      const T c = f * c_prev + i * g;
      const T po = peep ? peep[2 * H + j] * c : T(0);
      const T o = sigmoid(xw[3 * H + j] + hw[3 * H + j] + po);
      gates[j] = i;
      gates[H + j] = f;
      gates[2 * H + j] = g;
      gates[3 * H + j] = o;
      s.c[b * H + j] = c;
      s.h[b * H + j] = o * std::tanh(c);
    }
  }
}

template <class T>
void lstm_backward_step(const StepBackward<T>& s, const RnnCellParams<T>& p, const RnnConfig& cfg,
                        int64_t B) {
  const int64_t H = cfg.hidden_size, G4 = 4 * H;
  const T* peep = cfg.peephole ? p.w_peep.ptr() : nullptr;
  for (int64_t b = 0; b < B; ++b) {
    const T* gates = s.cache + b * G4;
    T* da = s.dg_ih + b * G4;
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = b * H + j;
      const T i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
      const T c = s.c[k], c_prev = s.c_prev[k], tc = std::tanh(c), dh = s.dh[k];
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
        s.dpeep[j] += da_i * c_prev;
        s.dpeep[H + j] += da_f * c_prev;
        s.dpeep[2 * H + j] += da_o * c;
      }
      s.dc_prev[k] = dc_prev;
      da[j] = da_i;
      da[H + j] = da_f;
      da[2 * H + j] = da_g;
      da[3 * H + j] = da_o;
    }
  }
  std::copy(s.dg_ih, s.dg_ih + B * G4, s.dg_hh);
  gemm<T>(false, false, B, H, G4, T(1), s.dg_hh, G4, p.w_hh.ptr(), H, T(0), s.dh_prev, H);
}

}  // namespace

template <class T>
CellOps<T> lstm_ops() {
  return {&lstm_cache_width<T>, &lstm_forward_step<T>, &lstm_backward_step<T>,
          &hh_weight_grads_plain<T>};
}

template CellOps<float> lstm_ops<float>();
template CellOps<double> lstm_ops<double>();

}  // namespace recur::cells
