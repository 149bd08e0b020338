// Deep transition RNN (recur/layers/deep_transition.h), forward and, right under it, BPTT.
//   backward at step t, given dh_t (from the output and from step t+1):
//     da_out = dh_t (1 - h_t^2);  dM_out += da_out^T u_L;  db_out += sum da_out;  du_L = da_out M_out
//     shortcut: dS += da_out^T h_{t-1};  dh_{t-1} += da_out S
//     for k = L..2:  da_k = du_k (1 - u_k^2);  dM_k += da_k^T u_{k-1};  db_k += sum da_k;  du_{k-1} = da_k M_k
//     da_1 = du_1 (1 - u_1^2);  dW += da_1^T x_t;  dU += da_1^T h_{t-1};  db_1 += sum da_1
//     dx_t = da_1 W;  dh_{t-1} += da_1 U
// Parameters +=, activations =.
#include "recur/layers/deep_transition.h"

#include <cmath>

#include "recur/core/error.h"
#include "recur/core/gemm.h"

namespace recur {

void DeepTransitionConfig::validate() const {
  RECUR_CHECK(input_size > 0 && hidden_size > 0, "deep transition RNN: input and hidden sizes must be positive");
  RECUR_CHECK(depth >= 1, "deep transition RNN: the depth must be >= 1, got " << depth);
}

template <class T>
DeepTransitionParams<T>::DeepTransitionParams(const DeepTransitionConfig& cfg) : config(cfg) {
  cfg.validate();
  const int64_t H = cfg.hidden_size;
  w_ih = Tensor<T>({H, cfg.input_size});
  w_hh = Tensor<T>({H, H});
  if (cfg.shortcut) w_short = Tensor<T>({H, H});
  w_out = Tensor<T>({H, H});
  b_out = Tensor<T>({H});
  for (int k = 0; k < cfg.depth; ++k) {
    w_mid.push_back(k == 0 ? Tensor<T>() : Tensor<T>({H, H}));
    b_mid.push_back(Tensor<T>({H}));
  }
}

template <class T>
void init_deep_transition(DeepTransitionParams<T>& p, Rng& rng) {
  init_params_uniform(p, rng, 1.0 / std::sqrt(double(p.config.hidden_size)));
}

namespace {

// out (B,H) += in (B,K) M^T, M (H,K).
template <class T>
void add_product(T* out, const T* in, const T* M, int64_t B, int64_t H, int64_t K) {
  gemm<T>(false, true, B, H, K, T(1), in, K, M, K, T(1), out, H);
}

template <class T>
void set_rows(T* out, const T* bias, int64_t B, int64_t H) {
  for (int64_t b = 0; b < B; ++b) std::copy_n(bias, H, out + b * H);
}

template <class T>
void tanh_rows(T* v, int64_t n) {
  for (int64_t k = 0; k < n; ++k) v[k] = std::tanh(v[k]);
}

}  // namespace

template <class T>
void deep_transition_forward(Tensor<T>& y, DeepTransitionCache<T>& cache, const DeepTransitionParams<T>& p,
                             const Tensor<T>& x, const Tensor<T>* h0) {
  const DeepTransitionConfig& c = p.config;
  const int64_t I = c.input_size, H = c.hidden_size, L = c.depth;
  RECUR_CHECK(x.rank() == 3 && x.dim(2) == I,
              "deep transition RNN input has shape " << x.shape_string() << ", expected (T, B, " << I << ")");
  const int64_t Ts = x.dim(0), B = x.dim(1), BH = B * H;
  RECUR_CHECK(!h0 || h0->shape == Shape({B, H}),
              "deep transition RNN h0 has shape " << h0->shape_string() << ", expected " << shape_str({B, H}));
  cache.x = x;
  cache.h = Tensor<T>({Ts + 1, B, H});
  if (h0) std::copy_n(h0->ptr(), BH, cache.h.ptr());
  cache.u.assign(size_t(L), Tensor<T>({Ts, B, H}));
  for (int64_t t = 0; t < Ts; ++t) {
    const T* hp = cache.h.ptr() + t * BH;
    T* u1 = cache.u[0].ptr() + t * BH;
    set_rows(u1, p.b_mid[0].ptr(), B, H);
    add_product(u1, x.ptr() + t * B * I, p.w_ih.ptr(), B, H, I);
    add_product(u1, hp, p.w_hh.ptr(), B, H, H);
    tanh_rows(u1, BH);
    for (int64_t k = 1; k < L; ++k) {
      T* uk = cache.u[size_t(k)].ptr() + t * BH;
      set_rows(uk, p.b_mid[size_t(k)].ptr(), B, H);
      add_product(uk, cache.u[size_t(k - 1)].ptr() + t * BH, p.w_mid[size_t(k)].ptr(), B, H, H);
      tanh_rows(uk, BH);
    }
    T* h = cache.h.ptr() + (t + 1) * BH;
    set_rows(h, p.b_out.ptr(), B, H);
    add_product(h, cache.u[size_t(L - 1)].ptr() + t * BH, p.w_out.ptr(), B, H, H);
    if (c.shortcut) add_product(h, hp, p.w_short.ptr(), B, H, H);
    tanh_rows(h, BH);
  }
  y = Tensor<T>({Ts, B, H}, std::vector<T>(cache.h.data.begin() + BH, cache.h.data.end()));
}

template <class T>
void deep_transition_backward(Tensor<T>& dx, DeepTransitionParams<T>& g, const DeepTransitionCache<T>& cache,
                              const DeepTransitionParams<T>& p, const Tensor<T>& dy, Tensor<T>* dh0) {
  const DeepTransitionConfig& c = p.config;
  const int64_t I = c.input_size, H = c.hidden_size, L = c.depth;
  const int64_t Ts = cache.x.dim(0), B = cache.x.dim(1), BH = B * H;
  RECUR_CHECK(dy.shape == Shape({Ts, B, H}), "deep transition output gradient has shape " << dy.shape_string());
  dx = Tensor<T>({Ts, B, I});
  std::vector<T> dh_next(static_cast<size_t>(BH), T(0)), da(static_cast<size_t>(BH)), du(static_cast<size_t>(BH));
  auto bias_grad = [&](Tensor<T>& db, const std::vector<T>& d) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < H; ++j) db[j] += d[size_t(b * H + j)];
  };
  for (int64_t t = Ts - 1; t >= 0; --t) {
    const T* h = cache.h.ptr() + (t + 1) * BH;
    const T* hp = cache.h.ptr() + t * BH;
    for (int64_t k = 0; k < BH; ++k) da[size_t(k)] = (dy[t * BH + k] + dh_next[size_t(k)]) * (T(1) - h[k] * h[k]);
    const T* uL = cache.u[size_t(L - 1)].ptr() + t * BH;
    gemm<T>(true, false, H, H, B, T(1), da.data(), H, uL, H, T(1), g.w_out.ptr(), H);
    bias_grad(g.b_out, da);
    gemm<T>(false, false, B, H, H, T(1), da.data(), H, p.w_out.ptr(), H, T(0), du.data(), H);
    std::fill(dh_next.begin(), dh_next.end(), T(0));
    if (c.shortcut) {
      gemm<T>(true, false, H, H, B, T(1), da.data(), H, hp, H, T(1), g.w_short.ptr(), H);
      gemm<T>(false, false, B, H, H, T(1), da.data(), H, p.w_short.ptr(), H, T(0), dh_next.data(), H);
    }
    for (int64_t k = L - 1; k >= 0; --k) {
      const T* uk = cache.u[size_t(k)].ptr() + t * BH;
      for (int64_t q = 0; q < BH; ++q) da[size_t(q)] = du[size_t(q)] * (T(1) - uk[q] * uk[q]);
      bias_grad(g.b_mid[size_t(k)], da);
      if (k == 0) break;
      const T* below = cache.u[size_t(k - 1)].ptr() + t * BH;
      gemm<T>(true, false, H, H, B, T(1), da.data(), H, below, H, T(1), g.w_mid[size_t(k)].ptr(), H);
      gemm<T>(false, false, B, H, H, T(1), da.data(), H, p.w_mid[size_t(k)].ptr(), H, T(0), du.data(), H);
    }
    const T* xt = cache.x.ptr() + t * B * I;
    gemm<T>(true, false, H, I, B, T(1), da.data(), H, xt, I, T(1), g.w_ih.ptr(), I);
    gemm<T>(false, false, B, I, H, T(1), da.data(), H, p.w_ih.ptr(), I, T(0), dx.ptr() + t * B * I, I);
    gemm<T>(true, false, H, H, B, T(1), da.data(), H, hp, H, T(1), g.w_hh.ptr(), H);
    gemm<T>(false, false, B, H, H, T(1), da.data(), H, p.w_hh.ptr(), H, T(1), dh_next.data(), H);
  }
  if (dh0) *dh0 = Tensor<T>({B, H}, std::move(dh_next));
}

template struct DeepTransitionParams<float>;
template struct DeepTransitionParams<double>;
template void init_deep_transition<float>(DeepTransitionParams<float>&, Rng&);
template void init_deep_transition<double>(DeepTransitionParams<double>&, Rng&);
template void deep_transition_forward<float>(Tensor<float>&, DeepTransitionCache<float>&,
                                             const DeepTransitionParams<float>&, const Tensor<float>&,
                                             const Tensor<float>*);
template void deep_transition_forward<double>(Tensor<double>&, DeepTransitionCache<double>&,
                                              const DeepTransitionParams<double>&, const Tensor<double>&,
                                              const Tensor<double>*);
template void deep_transition_backward<float>(Tensor<float>&, DeepTransitionParams<float>&,
                                              const DeepTransitionCache<float>&, const DeepTransitionParams<float>&,
                                              const Tensor<float>&, Tensor<float>*);
template void deep_transition_backward<double>(Tensor<double>&, DeepTransitionParams<double>&,
                                               const DeepTransitionCache<double>&,
                                               const DeepTransitionParams<double>&, const Tensor<double>&,
                                               Tensor<double>*);

}  // namespace recur
