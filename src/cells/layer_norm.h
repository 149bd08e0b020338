// Layer normalisation of one block of n pre-activations (a gate's H units, or the cell state), the
// pointwise kernel the layer-normalised cells share (ln_lstm.cpp, ln_gru.cpp).
//   forward:  xhat = (a - mean(a)) * s,  s = 1 / sqrt(var(a) + eps);   y = gamma * xhat + beta
//   backward: dgamma += dy * xhat;  dbeta += dy;  dxhat = dy * gamma
//             da = s * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
#pragma once

#include <cmath>
#include <cstdint>

namespace recur::cells {

inline constexpr double kLayerNormEps = 1e-5;

// Returns s; writes xhat and y (y may alias a).
template <class T>
T layer_norm_forward(T* y, T* xhat, const T* a, const T* gamma, const T* beta, int64_t n) {
  T mean = 0, var = 0;
  for (int64_t j = 0; j < n; ++j) mean += a[j];
  mean /= T(n);
  for (int64_t j = 0; j < n; ++j) var += (a[j] - mean) * (a[j] - mean);
  var /= T(n);
  const T s = T(1) / std::sqrt(var + T(kLayerNormEps));
  for (int64_t j = 0; j < n; ++j) {
    xhat[j] = (a[j] - mean) * s;
    y[j] = gamma[j] * xhat[j] + beta[j];
  }
  return s;
}

// da (assigned) from dy; dgamma, dbeta accumulated.
template <class T>
void layer_norm_backward(T* da, T* dgamma, T* dbeta, const T* dy, const T* xhat, const T* gamma, T s,
                         int64_t n) {
  T mean_d = 0, mean_dx = 0;
  for (int64_t j = 0; j < n; ++j) {
    const T d = dy[j] * gamma[j];
    dgamma[j] += dy[j] * xhat[j];
    dbeta[j] += dy[j];
    mean_d += d;
    mean_dx += d * xhat[j];
  }
  mean_d /= T(n);
  mean_dx /= T(n);
  for (int64_t j = 0; j < n; ++j) da[j] = s * (dy[j] * gamma[j] - mean_d - xhat[j] * mean_dx);
}

}  // namespace recur::cells
