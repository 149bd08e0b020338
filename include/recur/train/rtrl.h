// Real-Time Recurrent Learning (Williams & Zipser 1989): exact gradients of a recurrent layer
// computed forward in time, with no stored history and no backward pass.
//
// For one sequence the state s_t (h_t, and c_t for the LSTM) depends on the parameters theta
// (W_ih, W_hh, b_ih, b_hh: P values) through the sensitivity matrix M_t = ds_t/dtheta (S,P), carried
// along with the state:
//   z_t   = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh                 (G*H pre-activations)
//   dZ_t  = dz_t/dtheta = W_hh Mh_{t-1} + K_t                     (G*H, P)
//           K_t: the immediate part, row r holds x_t, h_{t-1}, 1, 1 in r's own columns of
//           W_ih, W_hh, b_ih, b_hh
//   simple RNN  h_t = f(z_t):   Mh_t = diag(f'(z_t)) dZ_t
//   LSTM        c_t = f c_{t-1} + i g,  h_t = o tanh(c_t):
//               Mc_t = diag(f) Mc_{t-1} + diag(c_{t-1} f') dZ_f + diag(g i') dZ_i + diag(i g') dZ_g
//               Mh_t = diag(tanh(c_t) o') dZ_o + diag(o (1 - tanh^2 c_t)) Mc_t
// A loss term L_t on the step's state adds dL_t/dtheta = dL_t/dh_t Mh_t + dL_t/dc_t Mc_t: the same
// sum over t that BPTT forms backwards. Cost per step and sequence: O(G H^2 P) = O(H^4) time and
// O(S P) memory, independent of the sequence length (BPTT: O(G H^2) per step and O(T H) memory).
//
// Online learning (`online`): update theta after every step with that step's gradient, carrying
// the sensitivities on as if theta had not changed (the usual RTRL approximation, exact in the limit
// of a small learning rate).
//
// Supports one unidirectional layer of rnn_tanh, rnn_relu, rnn_sigmoid or a plain LSTM (no
// peepholes, no coupled gates). Key: B = batch, I = input, H = hidden, G = gates, S = H (RNN) or
// 2H (LSTM), P = G*H*(I+H+2).
#pragma once

#include <cstdint>
#include <vector>

#include "recur/layers/rnn.h"

namespace recur {

template <class T>
class Rtrl {
 public:
  // Keeps a reference to `params` (one layer, one direction); the state starts at zero.
  Rtrl(const RnnParams<T>& params, int64_t batch);

  // One step: x (B,I) in, the new h (B,H) out (h_out may be null); updates the sensitivities.
  void step(const T* x, T* h_out);
  // grads += dh Mh (+ dc Mc): dh (B,H) is dL/dh_t for the step just taken, dc (B,H) dL/dc_t or null.
  // `grads` has the layer's shapes (RnnCellParams of the same configuration).
  void accumulate(const T* dh, const T* dc, RnnCellParams<T>& grads) const;
  // Sets the state (h, and c for the LSTM, each (B,H)); the sensitivities restart at zero, so the
  // state counts as a constant (truncated gradients, as BPTT over a window with a given init).
  void set_state(const T* h, const T* c);
  void reset();  // zero state, zero sensitivities

  const std::vector<T>& h() const { return h_; }  // (B,H)
  const std::vector<T>& c() const { return c_; }  // (B,H), LSTM only
  int64_t parameter_count() const { return P_; }
  // Bytes held across steps: state and sensitivities (what grows with B, not with T).
  int64_t state_bytes() const;

 private:
  const RnnParams<T>& params_;
  int64_t B_, I_, H_, G_, P_;
  bool lstm_;
  std::vector<T> h_, c_;     // (B,H)
  std::vector<T> mh_, mc_;   // (B,H,P)
  std::vector<T> dz_, z_, mc_next_;  // step scratch: (G*H,P), (G*H), (H,P)
};

// Online regression with RTRL: a layer and a linear readout y_t = V h_t + b fitted to targets as
// the stream arrives, plain SGD on 0.5 ||y_t - target_t||^2 after every step (the readout's
// gradient is exact; the layer's uses the carried sensitivities). Holds no history: memory is the
// state and the sensitivities whatever the stream's length.
struct RtrlOnlineOptions {
  CellKind cell = CellKind::rnn_tanh;
  int64_t hidden = 8;
  int64_t delay = 2;     // the delay-line task: target_t = x_{t-delay}, x uniform in [-1, 1]
  int64_t steps = 5000;
  int64_t window = 500;  // steps per reported mean squared error
  double lr = 0.05;
  uint64_t seed = 1;
};
struct RtrlOnlineResult {
  std::vector<double> window_mse;  // mean squared error of the predictions made in each window
  int64_t state_bytes = 0;
  double seconds = 0;
};

// Fits `params` (one layer, updated in place) and the readout V (O,H), bias (O) online on
// inputs (T,I) and targets (T,O).
RtrlOnlineResult rtrl_online_regression(RnnParams<double>& params, Tensor<double>& V,
                                        Tensor<double>& bias, const Tensor<double>& inputs,
                                        const Tensor<double>& targets, double lr, int64_t window);

// The delay-line task of RtrlOnlineOptions from a fresh, PyTorch-initialised layer.
RtrlOnlineResult rtrl_online_delay(const RtrlOnlineOptions& o);

}  // namespace recur
