// Real-Time Recurrent Learning: the sensitivity recurrences of recur/train/rtrl.h.
#include "recur/train/rtrl.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "recur/core/error.h"
#include "kernels/cpu/activations.h"
#include "recur/core/gemm.h"

namespace recur {

template <class T>
Rtrl<T>::Rtrl(const RnnParams<T>& params, int64_t batch) : params_(params), B_(batch) {
  const RnnConfig& c = params.config;
  RECUR_CHECK(c.num_layers == 1 && !c.bidirectional,
              "RTRL runs one unidirectional layer; got " << c.num_layers << " layer(s)"
                                                         << (c.bidirectional ? ", bidirectional" : ""));
  RECUR_CHECK(c.cell != CellKind::gru, "RTRL supports the simple RNN and the LSTM, not the GRU");
  RECUR_CHECK(!c.peephole && !c.coupled, "RTRL supports the plain LSTM (no peepholes, no coupled gates)");
  RECUR_CHECK(!c.mixes_state(), "RTRL supports the plain simple RNN (no leak, no residual recurrence)");
  RECUR_CHECK(!c.layer_norm, "RTRL does not support layer normalisation");
  RECUR_CHECK(batch >= 1, "RTRL: the batch must be >= 1, got " << batch);
  I_ = c.input_size;
  H_ = c.hidden_size;
  G_ = c.gates();
  P_ = G_ * H_ * (I_ + H_ + 2);
  lstm_ = c.cell == CellKind::lstm;
  const auto& p = params.cells.at(0);
  RECUR_CHECK(p.w_ih.shape == Shape({G_ * H_, I_}) && p.w_hh.shape == Shape({G_ * H_, H_}),
              "RTRL: the layer's weights have shapes " << p.w_ih.shape_string() << " and "
                                                       << p.w_hh.shape_string());
  h_.assign(size_t(B_ * H_), T(0));
  mh_.assign(size_t(B_ * H_ * P_), T(0));
  if (lstm_) {
    c_.assign(size_t(B_ * H_), T(0));
    mc_.assign(size_t(B_ * H_ * P_), T(0));
    mc_next_.assign(size_t(H_ * P_), T(0));
  }
  dz_.assign(size_t(G_ * H_ * P_), T(0));
  z_.assign(size_t(G_ * H_), T(0));
}

template <class T>
void Rtrl<T>::reset() {
  std::fill(h_.begin(), h_.end(), T(0));
  std::fill(c_.begin(), c_.end(), T(0));
  std::fill(mh_.begin(), mh_.end(), T(0));
  std::fill(mc_.begin(), mc_.end(), T(0));
}

template <class T>
void Rtrl<T>::set_state(const T* h, const T* c) {
  std::copy_n(h, B_ * H_, h_.begin());
  if (lstm_) {
    RECUR_CHECK(c, "RTRL: an LSTM's state needs c as well as h");
    std::copy_n(c, B_ * H_, c_.begin());
  }
  std::fill(mh_.begin(), mh_.end(), T(0));
  std::fill(mc_.begin(), mc_.end(), T(0));
}

template <class T>
int64_t Rtrl<T>::state_bytes() const {
  return int64_t((h_.size() + c_.size() + mh_.size() + mc_.size()) * sizeof(T));
}

template <class T>
void Rtrl<T>::step(const T* x, T* h_out) {
  const auto& p = params_.cells[0];
  const int64_t GH = G_ * H_, H = H_, I = I_, P = P_;
  // Column offsets of the parameter blocks in theta: W_ih, W_hh, b_ih, b_hh (PyTorch's order).
  const int64_t off_hh = GH * I, off_bih = off_hh + GH * H, off_bhh = off_bih + GH;
  const CellKind kind = params_.config.cell;
  for (int64_t b = 0; b < B_; ++b) {
    const T* xb = x + b * I;
    T* hb = h_.data() + b * H;
    T* mh = mh_.data() + b * H * P;
    // z = W_ih x + b_ih + W_hh h + b_hh, with h the previous state.
    for (int64_t r = 0; r < GH; ++r) {
      T s = p.b_ih[r] + p.b_hh[r];
      for (int64_t j = 0; j < I; ++j) s += p.w_ih[r * I + j] * xb[j];
      for (int64_t j = 0; j < H; ++j) s += p.w_hh[r * H + j] * hb[j];
      z_[size_t(r)] = s;
    }
    // dZ = W_hh Mh_prev + K.
    gemm<T>(false, false, GH, P, H, T(1), p.w_hh.ptr(), H, mh, P, T(0), dz_.data(), P);
    for (int64_t r = 0; r < GH; ++r) {
      T* row = dz_.data() + r * P;
      for (int64_t j = 0; j < I; ++j) row[r * I + j] += xb[j];
      for (int64_t j = 0; j < H; ++j) row[off_hh + r * H + j] += hb[j];
      row[off_bih + r] += T(1);
      row[off_bhh + r] += T(1);
    }
    if (!lstm_) {
      for (int64_t k = 0; k < H; ++k) {
        const T zk = z_[size_t(k)];
        T a, da;
        if (kind == CellKind::rnn_tanh) a = std::tanh(zk), da = T(1) - a * a;
        else if (kind == CellKind::rnn_relu) a = zk > 0 ? zk : T(0), da = zk > 0 ? T(1) : T(0);
        else if (kind == CellKind::rnn_linear) a = zk, da = T(1);
        else a = cpu::sigmoid(zk), da = a * (T(1) - a);
        hb[k] = a;
        const T* dzr = dz_.data() + k * P;
        T* mr = mh + k * P;
        for (int64_t q = 0; q < P; ++q) mr[q] = da * dzr[q];
      }
    } else {
      T* cb = c_.data() + b * H;
      T* mc = mc_.data() + b * H * P;
      for (int64_t k = 0; k < H; ++k) {
        const T i = cpu::sigmoid(z_[size_t(k)]), f = cpu::sigmoid(z_[size_t(H + k)]);
        const T g = std::tanh(z_[size_t(2 * H + k)]), o = cpu::sigmoid(z_[size_t(3 * H + k)]);
        const T c_prev = cb[k], c = f * c_prev + i * g, tc = std::tanh(c);
        // Mc_t row k: f Mc_prev + c_prev f' dZ_f + g i' dZ_i + i g' dZ_g.
        const T a_f = c_prev * f * (T(1) - f), a_i = g * i * (T(1) - i), a_g = i * (T(1) - g * g);
        const T* dzi = dz_.data() + k * P;
        const T* dzf = dz_.data() + (H + k) * P;
        const T* dzg = dz_.data() + (2 * H + k) * P;
        const T* dzo = dz_.data() + (3 * H + k) * P;
        T* mcr = mc + k * P;
        T* mhr = mh + k * P;
        const T a_o = tc * o * (T(1) - o), a_c = o * (T(1) - tc * tc);
        for (int64_t q = 0; q < P; ++q) {
          const T m = f * mcr[q] + a_f * dzf[q] + a_i * dzi[q] + a_g * dzg[q];
          mcr[q] = m;
          mhr[q] = a_o * dzo[q] + a_c * m;
        }
        cb[k] = c;
        hb[k] = o * tc;
      }
    }
    if (h_out) std::copy_n(hb, H, h_out + b * H);
  }
}

template <class T>
void Rtrl<T>::accumulate(const T* dh, const T* dc, RnnCellParams<T>& grads) const {
  const int64_t GH = G_ * H_, H = H_, I = I_, P = P_;
  RECUR_CHECK(grads.w_ih.shape == Shape({GH, I}) && grads.w_hh.shape == Shape({GH, H}) &&
                  grads.b_ih.numel() == GH && grads.b_hh.numel() == GH,
              "RTRL: the gradient tensors do not have the layer's shapes");
  RECUR_CHECK(!dc || lstm_, "RTRL: dL/dc is for the LSTM only");
  // g (P) = sum_b dh_b Mh_b (+ dc_b Mc_b), then scattered into the four tensors.
  std::vector<T> g(static_cast<size_t>(P), T(0));
  for (int64_t b = 0; b < B_; ++b) {
    gemm<T>(false, false, 1, P, H, T(1), dh + b * H, H, mh_.data() + b * H * P, P, T(1), g.data(), P);
    if (dc) gemm<T>(false, false, 1, P, H, T(1), dc + b * H, H, mc_.data() + b * H * P, P, T(1), g.data(), P);
  }
  const int64_t off_hh = GH * I, off_bih = off_hh + GH * H, off_bhh = off_bih + GH;
  for (int64_t q = 0; q < GH * I; ++q) grads.w_ih[q] += g[size_t(q)];
  for (int64_t q = 0; q < GH * H; ++q) grads.w_hh[q] += g[size_t(off_hh + q)];
  for (int64_t q = 0; q < GH; ++q) grads.b_ih[q] += g[size_t(off_bih + q)];
  for (int64_t q = 0; q < GH; ++q) grads.b_hh[q] += g[size_t(off_bhh + q)];
}

template class Rtrl<float>;
template class Rtrl<double>;

RtrlOnlineResult rtrl_online_regression(RnnParams<double>& params, Tensor<double>& V,
                                        Tensor<double>& bias, const Tensor<double>& inputs,
                                        const Tensor<double>& targets, double lr, int64_t window) {
  const RnnConfig& cfg = params.config;
  const int64_t H = cfg.hidden_size, I = cfg.input_size;
  RECUR_CHECK(inputs.rank() == 2 && inputs.dim(1) == I && targets.rank() == 2 &&
                  targets.dim(0) == inputs.dim(0),
              "online RTRL: inputs " << inputs.shape_string() << " and targets "
                                     << targets.shape_string() << "; expected (T," << I << ") and (T,O)");
  const int64_t T = inputs.dim(0), O = targets.dim(1);
  RECUR_CHECK(V.shape == Shape({O, H}) && bias.numel() == O,
              "online RTRL: readout " << V.shape_string() << ", expected (" << O << ", " << H << ")");
  RECUR_CHECK(window >= 1 && lr > 0, "online RTRL: the window must be >= 1 and the rate > 0");
  const auto t0 = std::chrono::steady_clock::now();
  Rtrl<double> rtrl(params, 1);
  RnnParams<double> grads(cfg);
  std::vector<double> h(static_cast<size_t>(H)), dy(static_cast<size_t>(O)), dh(static_cast<size_t>(H));
  RtrlOnlineResult r;
  double se = 0;
  for (int64_t t = 0; t < T; ++t) {
    rtrl.step(inputs.ptr() + t * I, h.data());
    for (int64_t o = 0; o < O; ++o) {
      double y = bias[o];
      for (int64_t k = 0; k < H; ++k) y += V[o * H + k] * h[size_t(k)];
      dy[size_t(o)] = y - targets[t * O + o];
      se += dy[size_t(o)] * dy[size_t(o)];
    }
    std::fill(dh.begin(), dh.end(), 0.0);
    for (int64_t o = 0; o < O; ++o)
      for (int64_t k = 0; k < H; ++k) dh[size_t(k)] += V[o * H + k] * dy[size_t(o)];
    for (auto& [name, g] : grads.named()) g->fill(0.0);
    rtrl.accumulate(dh.data(), nullptr, grads.cells[0]);
    for (int64_t o = 0; o < O; ++o) {
      bias[o] -= lr * dy[size_t(o)];
      for (int64_t k = 0; k < H; ++k) V[o * H + k] -= lr * dy[size_t(o)] * h[size_t(k)];
    }
    const auto pv = params.named();
    const auto gv = grads.named();
    for (size_t k = 0; k < pv.size(); ++k)
      for (int64_t i = 0; i < pv[k].second->numel(); ++i) (*pv[k].second)[i] -= lr * (*gv[k].second)[i];
    if ((t + 1) % window == 0) {
      r.window_mse.push_back(se / double(window * O));
      se = 0;
    }
  }
  r.state_bytes = rtrl.state_bytes();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

RtrlOnlineResult rtrl_online_delay(const RtrlOnlineOptions& o) {
  RECUR_CHECK(o.delay >= 0 && o.steps > o.delay && o.hidden >= 1,
              "online RTRL delay task: expected delay >= 0, steps > delay, hidden >= 1");
  RnnConfig cfg;
  cfg.cell = o.cell;
  cfg.input_size = 1;
  cfg.hidden_size = o.hidden;
  RnnParams<double> params(cfg);
  Rng rng(o.seed);
  init_rnn_uniform(params, rng);
  Tensor<double> x({o.steps, 1}), y({o.steps, 1});
  for (auto& v : x.data) v = rng.uniform(-1, 1);
  for (int64_t t = o.delay; t < o.steps; ++t) y[t] = x[t - o.delay];
  Tensor<double> V({1, o.hidden}), bias({1});
  for (auto& v : V.data) v = rng.uniform(-0.1, 0.1);
  return rtrl_online_regression(params, V, bias, x, y, o.lr, o.window);
}

}  // namespace recur
