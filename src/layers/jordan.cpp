// Jordan network (recur/layers/jordan.h).
//   forward (all N = T*B rows at once):  a = x W^T + y_prev R^T + b;  h = tanh(a);  y = h V^T + c
//   backward:  dV += dy^T h,  dc += sum dy,  dh = dy V
//              da = dh (1 - h^2);  dW += da^T x,  dR += da^T y_prev,  db += sum da
//              dx = da W,  dy_prev = da R
// Parameters +=, activations =.
#include "recur/layers/jordan.h"

#include <cmath>

#include "recur/core/error.h"
#include "recur/core/gemm.h"
#include "recur/nn/linear.h"

namespace recur {

void JordanConfig::validate() const {
  RECUR_CHECK(input_size > 0 && hidden_size > 0 && output_size > 0,
              "Jordan network: input, hidden and output sizes must be positive");
}

template <class T>
JordanParams<T>::JordanParams(const JordanConfig& cfg) : config(cfg) {
  cfg.validate();
  const int64_t I = cfg.input_size, H = cfg.hidden_size, O = cfg.output_size;
  w_ih = Tensor<T>({H, I});
  w_oh = Tensor<T>({H, O});
  bias = Tensor<T>({H});
  w_out = Tensor<T>({O, H});
  b_out = Tensor<T>({O});
}

template <class T>
void init_jordan(JordanParams<T>& p, Rng& rng) {
  const JordanConfig& c = p.config;
  const double a = 1.0 / std::sqrt(double(c.input_size + c.output_size)), o = 1.0 / std::sqrt(double(c.hidden_size));
  for (auto* t : {&p.w_ih, &p.w_oh, &p.bias})
    for (auto& v : t->data) v = T(rng.uniform(-a, a));
  for (auto* t : {&p.w_out, &p.b_out})
    for (auto& v : t->data) v = T(rng.uniform(-o, o));
}

namespace {

// h (N,H) = tanh(x W^T + y_prev R^T + b); y (N,O) = h V^T + c.
template <class T>
void rows_forward(T* y, T* h, const T* x, const T* y_prev, const JordanParams<T>& p, int64_t N) {
  const int64_t I = p.config.input_size, H = p.config.hidden_size, O = p.config.output_size;
  linear_forward(h, x, p.w_ih.ptr(), p.bias.ptr(), N, I, H);
  gemm<T>(false, true, N, H, O, T(1), y_prev, O, p.w_oh.ptr(), O, T(1), h, H);
  for (int64_t k = 0; k < N * H; ++k) h[k] = std::tanh(h[k]);
  linear_forward(y, h, p.w_out.ptr(), p.b_out.ptr(), N, H, O);
}

}  // namespace

template <class T>
void jordan_forward(Tensor<T>& y, JordanCache<T>& cache, const JordanParams<T>& p, const Tensor<T>& x,
                    const Tensor<T>& y_prev) {
  const JordanConfig& c = p.config;
  RECUR_CHECK(x.rank() == 3 && x.dim(2) == c.input_size,
              "Jordan input has shape " << x.shape_string() << ", expected (T, B, " << c.input_size << ")");
  const int64_t Ts = x.dim(0), B = x.dim(1), N = Ts * B;
  RECUR_CHECK(y_prev.shape == Shape({Ts, B, c.output_size}),
              "Jordan fed outputs have shape " << y_prev.shape_string() << ", expected "
                                               << shape_str({Ts, B, c.output_size}));
  cache.x = x;
  cache.y_prev = y_prev;
  cache.h = Tensor<T>({Ts, B, c.hidden_size});
  y = Tensor<T>({Ts, B, c.output_size});
  rows_forward(y.ptr(), cache.h.ptr(), x.ptr(), y_prev.ptr(), p, N);
}

template <class T>
void jordan_backward(Tensor<T>& dx, Tensor<T>& dy_prev, JordanParams<T>& g, const JordanCache<T>& cache,
                     const JordanParams<T>& p, const Tensor<T>& dy) {
  const JordanConfig& c = p.config;
  const int64_t I = c.input_size, H = c.hidden_size, O = c.output_size;
  const int64_t Ts = cache.x.dim(0), B = cache.x.dim(1), N = Ts * B;
  RECUR_CHECK(dy.shape == Shape({Ts, B, O}), "Jordan output gradient has shape " << dy.shape_string());
  Tensor<T> dh({N, H});
  linear_backward(dh.ptr(), g.w_out.ptr(), g.b_out.ptr(), dy.ptr(), cache.h.ptr(), p.w_out.ptr(), N, H, O);
  for (int64_t k = 0; k < N * H; ++k) dh[k] *= T(1) - cache.h[k] * cache.h[k];
  dx = Tensor<T>({Ts, B, I});
  dy_prev = Tensor<T>({Ts, B, O});
  linear_backward(dx.ptr(), g.w_ih.ptr(), g.bias.ptr(), dh.ptr(), cache.x.ptr(), p.w_ih.ptr(), N, I, H);
  linear_backward(dy_prev.ptr(), g.w_oh.ptr(), static_cast<T*>(nullptr), dh.ptr(), cache.y_prev.ptr(),
                  p.w_oh.ptr(), N, O, H);
}

template <class T>
Tensor<T> jordan_generate(const JordanParams<T>& p, const Tensor<T>& x,
                          std::type_identity_t<const Tensor<T>*> y_init) {
  const JordanConfig& c = p.config;
  RECUR_CHECK(x.rank() == 3 && x.dim(2) == c.input_size,
              "Jordan input has shape " << x.shape_string() << ", expected (T, B, " << c.input_size << ")");
  const int64_t Ts = x.dim(0), B = x.dim(1), O = c.output_size;
  Tensor<T> prev({B, O}), h({B, c.hidden_size}), y({Ts, B, O});
  if (y_init) {
    RECUR_CHECK(y_init->shape == Shape({B, O}), "Jordan y_init has shape " << y_init->shape_string());
    prev = *y_init;
  }
  for (int64_t t = 0; t < Ts; ++t) {
    rows_forward(y.ptr() + t * B * O, h.ptr(), x.ptr() + t * B * c.input_size, prev.ptr(), p, B);
    std::copy_n(y.ptr() + t * B * O, B * O, prev.ptr());
  }
  return y;
}

template struct JordanParams<float>;
template struct JordanParams<double>;
template void init_jordan<float>(JordanParams<float>&, Rng&);
template void init_jordan<double>(JordanParams<double>&, Rng&);
template void jordan_forward<float>(Tensor<float>&, JordanCache<float>&, const JordanParams<float>&,
                                    const Tensor<float>&, const Tensor<float>&);
template void jordan_forward<double>(Tensor<double>&, JordanCache<double>&, const JordanParams<double>&,
                                     const Tensor<double>&, const Tensor<double>&);
template void jordan_backward<float>(Tensor<float>&, Tensor<float>&, JordanParams<float>&,
                                     const JordanCache<float>&, const JordanParams<float>&, const Tensor<float>&);
template void jordan_backward<double>(Tensor<double>&, Tensor<double>&, JordanParams<double>&,
                                      const JordanCache<double>&, const JordanParams<double>&,
                                      const Tensor<double>&);
template Tensor<float> jordan_generate<float>(const JordanParams<float>&, const Tensor<float>&, const Tensor<float>*);
template Tensor<double> jordan_generate<double>(const JordanParams<double>&, const Tensor<double>&,
                                                const Tensor<double>*);

}  // namespace recur
