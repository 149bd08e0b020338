// RNN with skip connections through time (recur/layers/skip_rnn.h).
//   forward:  z_t = x_t W^T + b + h_{t-1} U_1^T + h_{t-d} U_d^T;  h_t = tanh(z_t)
//   backward (t = T-1 .. 0, dh_t complete once every later step has sent its share):
//             dz_t = dh_t (1 - h_t^2)
//             dW += dz_t^T x_t, db += sum dz_t, dx_t = dz_t W
//             dU_1 += dz_t^T h_{t-1}, dh_{t-1} += dz_t U_1;  dU_d += dz_t^T h_{t-d}, dh_{t-d} += dz_t U_d
// Parameters +=, activations =.
#include "recur/layers/skip_rnn.h"

#include <cmath>

#include "recur/core/error.h"
#include "recur/core/gemm.h"

namespace recur {

void SkipRnnConfig::validate() const {
  RECUR_CHECK(input_size > 0 && hidden_size > 0, "skip RNN: input and hidden sizes must be positive");
  RECUR_CHECK(delay >= 1, "skip RNN: the delay must be >= 1, got " << delay);
}

template <class T>
SkipRnnParams<T>::SkipRnnParams(const SkipRnnConfig& cfg) : config(cfg) {
  cfg.validate();
  const int64_t H = cfg.hidden_size;
  w_ih = Tensor<T>({H, cfg.input_size});
  if (cfg.short_connections) w_hh = Tensor<T>({H, H});
  w_skip = Tensor<T>({H, H});
  bias = Tensor<T>({H});
}

template <class T>
void init_skip_rnn(SkipRnnParams<T>& p, Rng& rng) {
  init_params_uniform(p, rng, 1.0 / std::sqrt(double(p.config.hidden_size)));
}

namespace {
// h_s: a step's state, h0 at s = -1 (when given), null where it is zero.
template <class T>
const T* state_at(const SkipRnnCache<T>& c, int64_t s, int64_t BH) {
  if (s >= 0) return c.h.ptr() + s * BH;
  return s == -1 && !c.h0.empty() ? c.h0.ptr() : nullptr;
}
}  // namespace

template <class T>
void skip_rnn_forward(Tensor<T>& y, SkipRnnCache<T>& cache, const SkipRnnParams<T>& p, const Tensor<T>& x,
                      const Tensor<T>* h0) {
  const SkipRnnConfig& c = p.config;
  const int64_t I = c.input_size, H = c.hidden_size, d = c.delay;
  RECUR_CHECK(x.rank() == 3 && x.dim(2) == I,
              "skip RNN input has shape " << x.shape_string() << ", expected (T, B, " << I << ")");
  const int64_t Ts = x.dim(0), B = x.dim(1);
  RECUR_CHECK(!h0 || h0->shape == Shape({B, H}),
              "skip RNN h0 has shape " << h0->shape_string() << ", expected " << shape_str({B, H}));
  cache.x = x;
  cache.h = Tensor<T>({Ts, B, H});
  cache.h0 = h0 ? *h0 : Tensor<T>();
  for (int64_t t = 0; t < Ts; ++t) {
    T* h = cache.h.ptr() + t * B * H;
    for (int64_t b = 0; b < B; ++b) std::copy_n(p.bias.ptr(), H, h + b * H);
    gemm<T>(false, true, B, H, I, T(1), x.ptr() + t * B * I, I, p.w_ih.ptr(), I, T(1), h, H);
    if (const T* prev = state_at(cache, t - 1, B * H); c.short_connections && prev)
      gemm<T>(false, true, B, H, H, T(1), prev, H, p.w_hh.ptr(), H, T(1), h, H);
    if (const T* back = state_at(cache, t - d, B * H))
      gemm<T>(false, true, B, H, H, T(1), back, H, p.w_skip.ptr(), H, T(1), h, H);
    for (int64_t k = 0; k < B * H; ++k) h[k] = std::tanh(h[k]);
  }
  y = cache.h;
}

template <class T>
void skip_rnn_backward(Tensor<T>& dx, SkipRnnParams<T>& g, const SkipRnnCache<T>& cache,
                       const SkipRnnParams<T>& p, const Tensor<T>& dy, Tensor<T>* dh0) {
  const SkipRnnConfig& c = p.config;
  const int64_t I = c.input_size, H = c.hidden_size, d = c.delay;
  const int64_t Ts = cache.x.dim(0), B = cache.x.dim(1);
  RECUR_CHECK(dy.shape == Shape({Ts, B, H}), "skip RNN output gradient has shape " << dy.shape_string());
  Tensor<T> dh = dy;  // accumulates what later steps send back
  Tensor<T> dstart({B, H});  // what reaches h0
  dx = Tensor<T>({Ts, B, I});
  // Where the gradient of h_s goes: dh, or dstart for h0 (s = -1), or nowhere (zeros).
  auto grad_at = [&](int64_t s) -> T* {
    if (s >= 0) return dh.ptr() + s * B * H;
    return s == -1 && !cache.h0.empty() ? dstart.ptr() : nullptr;
  };
  std::vector<T> dz(static_cast<size_t>(B * H));
  for (int64_t t = Ts - 1; t >= 0; --t) {
    const T* h = cache.h.ptr() + t * B * H;
    const T* dht = dh.ptr() + t * B * H;
    for (int64_t k = 0; k < B * H; ++k) dz[size_t(k)] = dht[k] * (T(1) - h[k] * h[k]);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) g.bias[j] += dz[size_t(b * H + j)];
    const T* xt = cache.x.ptr() + t * B * I;
    gemm<T>(true, false, H, I, B, T(1), dz.data(), H, xt, I, T(1), g.w_ih.ptr(), I);
    gemm<T>(false, false, B, I, H, T(1), dz.data(), H, p.w_ih.ptr(), I, T(0), dx.ptr() + t * B * I, I);
    if (const T* prev = state_at(cache, t - 1, B * H); c.short_connections && prev) {
      gemm<T>(true, false, H, H, B, T(1), dz.data(), H, prev, H, T(1), g.w_hh.ptr(), H);
      gemm<T>(false, false, B, H, H, T(1), dz.data(), H, p.w_hh.ptr(), H, T(1), grad_at(t - 1), H);
    }
    if (const T* back = state_at(cache, t - d, B * H)) {
      gemm<T>(true, false, H, H, B, T(1), dz.data(), H, back, H, T(1), g.w_skip.ptr(), H);
      gemm<T>(false, false, B, H, H, T(1), dz.data(), H, p.w_skip.ptr(), H, T(1), grad_at(t - d), H);
    }
  }
  if (dh0) *dh0 = std::move(dstart);
}

template struct SkipRnnParams<float>;
template struct SkipRnnParams<double>;
template void init_skip_rnn<float>(SkipRnnParams<float>&, Rng&);
template void init_skip_rnn<double>(SkipRnnParams<double>&, Rng&);
template void skip_rnn_forward<float>(Tensor<float>&, SkipRnnCache<float>&, const SkipRnnParams<float>&,
                                      const Tensor<float>&, const Tensor<float>*);
template void skip_rnn_forward<double>(Tensor<double>&, SkipRnnCache<double>&, const SkipRnnParams<double>&,
                                       const Tensor<double>&, const Tensor<double>*);
template void skip_rnn_backward<float>(Tensor<float>&, SkipRnnParams<float>&, const SkipRnnCache<float>&,
                                       const SkipRnnParams<float>&, const Tensor<float>&, Tensor<float>*);
template void skip_rnn_backward<double>(Tensor<double>&, SkipRnnParams<double>&, const SkipRnnCache<double>&,
                                        const SkipRnnParams<double>&, const Tensor<double>&, Tensor<double>*);

}  // namespace recur
