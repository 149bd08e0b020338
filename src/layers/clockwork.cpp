// Clockwork RNN (recur/layers/clockwork.h): a time loop that updates only the modules whose clock
// ticks, forward and, right under it, backward.
// Parameters +=, activations =.
#include "recur/layers/clockwork.h"

#include <cmath>

#include "recur/core/error.h"
#include "kernels/cpu/activations.h"
#include "recur/core/gemm.h"

namespace recur {

void ClockworkConfig::validate() const {
  RECUR_CHECK(input_size > 0 && hidden_size > 0,
              "Clockwork RNN: input and hidden sizes must be positive, got " << input_size << " and "
                                                                            << hidden_size);
  RECUR_CHECK(!periods.empty(), "Clockwork RNN: give at least one module period");
  RECUR_CHECK(hidden_size % modules() == 0,
              "Clockwork RNN: the hidden size " << hidden_size << " is not a multiple of the "
                                                << modules() << " modules");
  for (size_t i = 0; i < periods.size(); ++i)
    RECUR_CHECK(periods[i] >= 1 && (i == 0 || periods[i] > periods[i - 1]),
                "Clockwork RNN: periods must be >= 1 and strictly increasing (fastest first), got "
                    << periods[i] << " at module " << i);
}

template <class T>
ClockworkParams<T>::ClockworkParams(const ClockworkConfig& cfg) : config(cfg) {
  cfg.validate();
  const int64_t H = cfg.hidden_size;
  w_ih = Tensor<T>({H, cfg.input_size});
  w_hh = Tensor<T>({H, H});
  bias = Tensor<T>({H});
}

template <class T>
void init_clockwork(ClockworkParams<T>& p, Rng& rng) {
  const ClockworkConfig& c = p.config;
  const int64_t H = c.hidden_size, k = c.module_size();
  const double a = 1.0 / std::sqrt(double(H));
  for (auto& v : p.w_ih.data) v = T(rng.uniform(-a, a));
  for (auto& v : p.bias.data) v = T(rng.uniform(-a, a));
  p.w_hh.fill(T(0));
  for (int64_t r = 0; r < H; ++r)
    for (int64_t j = (r / k) * k; j < H; ++j) p.w_hh[r * H + j] = T(rng.uniform(-a, a));
}

namespace {

bool active(const ClockworkConfig& c, int64_t i, int64_t t) { return t % c.periods[size_t(i)] == 0; }

}  // namespace

template <class T>
void clockwork_forward(Tensor<T>& y, Tensor<T>& hT, ClockworkCache<T>& cache,
                       const ClockworkParams<T>& p, const Tensor<T>& x,
                       std::type_identity_t<const Tensor<T>*> h0) {
  const ClockworkConfig& c = p.config;
  c.validate();
  const int64_t I = c.input_size, H = c.hidden_size, k = c.module_size(), g = c.modules();
  RECUR_CHECK(x.rank() == 3 && x.dim(2) == I,
              "Clockwork RNN input has shape " << x.shape_string() << ", expected (T, B, " << I << ")");
  const int64_t Ts = x.dim(0), B = x.dim(1);
  if (h0)
    RECUR_CHECK(h0->shape == Shape({B, H}),
                "Clockwork RNN h0 has shape " << h0->shape_string() << ", expected " << shape_str({B, H}));
  cache.x = x;
  cache.states = Tensor<T>({Ts + 1, B, H});
  if (h0) std::copy(h0->data.begin(), h0->data.end(), cache.states.data.begin());
  Tensor<T> a({B, k});
  for (int64_t t = 0; t < Ts; ++t) {
    const T* hp = cache.states.ptr() + t * B * H;
    T* h = cache.states.ptr() + (t + 1) * B * H;
    std::copy_n(hp, B * H, h);  // inactive modules keep their state
    for (int64_t i = 0; i < g; ++i) {
      if (!active(c, i, t)) continue;
      // a = b[i] + x_t W_ih[i]^T + h_prev[:, i:] W_hh[i, i:]^T   (B,k)
      const int64_t r0 = i * k, n = H - r0;
      for (int64_t b = 0; b < B; ++b) std::copy_n(p.bias.ptr() + r0, k, a.ptr() + b * k);
      gemm<T>(false, true, B, k, I, T(1), x.ptr() + t * B * I, I, p.w_ih.ptr() + r0 * I, I, T(1), a.ptr(), k);
      gemm<T>(false, true, B, k, n, T(1), hp + r0, H, p.w_hh.ptr() + r0 * H + r0, H, T(1), a.ptr(), k);
      cpu::tanh_inplace(a.ptr(), B * k);
      for (int64_t b = 0; b < B; ++b) std::copy_n(a.ptr() + b * k, k, h + b * H + r0);
    }
  }
  y = Tensor<T>({Ts, B, H}, std::vector<T>(cache.states.data.begin() + B * H, cache.states.data.end()));
  hT = Tensor<T>({B, H}, std::vector<T>(cache.states.data.end() - B * H, cache.states.data.end()));
}

// Backward of an active module i at step t, with dh its state gradient (B,H):
//   da = dh[i] * (1 - h[i]^2)                        (B,k)
//   dW_ih[i] += da^T x_t,  dW_hh[i, i:] += da^T h_prev[:, i:],  db[i] += sum_b da
//   dx_t += da W_ih[i],    dh_prev[:, i:] += da W_hh[i, i:]
// An inactive module passes its gradient straight to the previous step: dh_prev[i] += dh[i].
template <class T>
void clockwork_backward(Tensor<T>& dx, Tensor<T>& dh0, ClockworkParams<T>& grads,
                        const ClockworkCache<T>& cache, const ClockworkParams<T>& p,
                        const Tensor<T>& dy, std::type_identity_t<const Tensor<T>*> dhT) {
  const ClockworkConfig& c = p.config;
  const int64_t I = c.input_size, H = c.hidden_size, k = c.module_size(), g = c.modules();
  const int64_t Ts = cache.x.dim(0), B = cache.x.dim(1);
  RECUR_CHECK(dy.shape == Shape({Ts, B, H}),
              "Clockwork RNN output gradient has shape " << dy.shape_string() << ", expected "
                                                         << shape_str({Ts, B, H}));
  if (dhT) RECUR_CHECK(dhT->shape == Shape({B, H}), "Clockwork RNN final-state gradient has shape "
                                                        << dhT->shape_string());
  dx = Tensor<T>({Ts, B, I});
  Tensor<T> dh({B, H}), dh_prev({B, H}), da({B, k});
  if (dhT) dh = *dhT;
  for (int64_t t = Ts - 1; t >= 0; --t) {
    const T* dyt = dy.ptr() + t * B * H;
    for (int64_t q = 0; q < B * H; ++q) dh[q] += dyt[q];
    const T* hp = cache.states.ptr() + t * B * H;
    const T* h = cache.states.ptr() + (t + 1) * B * H;
    const T* xt = cache.x.ptr() + t * B * I;
    dh_prev.fill(T(0));
    for (int64_t i = 0; i < g; ++i) {
      const int64_t r0 = i * k, n = H - r0;
      if (!active(c, i, t)) {
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < k; ++j) dh_prev[b * H + r0 + j] += dh[b * H + r0 + j];
        continue;
      }
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < k; ++j) {
          const T hv = h[b * H + r0 + j];
          da[b * k + j] = dh[b * H + r0 + j] * (T(1) - hv * hv);
          grads.bias[r0 + j] += da[b * k + j];
        }
      gemm<T>(true, false, k, I, B, T(1), da.ptr(), k, xt, I, T(1), grads.w_ih.ptr() + r0 * I, I);
      gemm<T>(true, false, k, n, B, T(1), da.ptr(), k, hp + r0, H, T(1), grads.w_hh.ptr() + r0 * H + r0, H);
      gemm<T>(false, false, B, I, k, T(1), da.ptr(), k, p.w_ih.ptr() + r0 * I, I, T(1), dx.ptr() + t * B * I, I);
      gemm<T>(false, false, B, n, k, T(1), da.ptr(), k, p.w_hh.ptr() + r0 * H + r0, H, T(1), dh_prev.ptr() + r0, H);
    }
    std::swap(dh, dh_prev);
  }
  dh0 = std::move(dh);
}

double clockwork_forward_macs(const ClockworkConfig& c, int64_t T, int64_t B) {
  const int64_t H = c.hidden_size, k = c.module_size();
  double macs = 0;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < c.modules(); ++i)
      if (active(c, i, t)) macs += double(B * k * (c.input_size + H - i * k));
  return macs;
}

template struct ClockworkParams<float>;
template struct ClockworkParams<double>;
template void init_clockwork<float>(ClockworkParams<float>&, Rng&);
template void init_clockwork<double>(ClockworkParams<double>&, Rng&);
template void clockwork_forward<float>(Tensor<float>&, Tensor<float>&, ClockworkCache<float>&,
                                       const ClockworkParams<float>&, const Tensor<float>&,
                                       const Tensor<float>*);
template void clockwork_forward<double>(Tensor<double>&, Tensor<double>&, ClockworkCache<double>&,
                                        const ClockworkParams<double>&, const Tensor<double>&,
                                        const Tensor<double>*);
template void clockwork_backward<float>(Tensor<float>&, Tensor<float>&, ClockworkParams<float>&,
                                        const ClockworkCache<float>&, const ClockworkParams<float>&,
                                        const Tensor<float>&, const Tensor<float>*);
template void clockwork_backward<double>(Tensor<double>&, Tensor<double>&, ClockworkParams<double>&,
                                         const ClockworkCache<double>&, const ClockworkParams<double>&,
                                         const Tensor<double>&, const Tensor<double>*);

}  // namespace recur
