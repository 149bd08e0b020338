// Fully connected (affine) layer, weight laid out as PyTorch's nn.Linear: W is (out, in).
//
// Shapes key: N = rows, I = input features, O = output features.
//
//   forward:  y = x W^T + b                      y (N,O), x (N,I), W (O,I), b (O)
//   backward: dW += dy^T x                       (O,I)
//             db += sum_n dy[n, :]               (O)
//             dx  = dy W                         (N,I)
//
// Gradient rule (this file): parameter gradients (dW, db) accumulate with +=; the activation
// gradient (dx) is assigned with =.
#pragma once

#include <cmath>
#include <cstdint>

#include "recur/core/rng.h"
#include "recur/core/tensor.h"

namespace recur {

// y (N,O) = x (N,I) W (O,I)^T + b (O). b may be nullptr (no bias).
template <class T>
void linear_forward(T* y, const T* x, const T* W, const T* b, int64_t N, int64_t I, int64_t O);

// dW (O,I) += dy^T x; db (O) += column sums of dy (skipped when nullptr); dx (N,I) = dy W (skipped
// when nullptr, e.g. when x is the network input).
template <class T>
void linear_backward(T* dx, T* dW, T* db, const T* dy, const T* x, const T* W, int64_t N, int64_t I,
                     int64_t O);

// PyTorch's nn.Linear initialisation: W (O,I) and then b (O) ~ U(-1/sqrt(I), 1/sqrt(I)).
template <class T>
void init_linear_uniform(Tensor<T>& W, Tensor<T>& b, Rng& rng) {
  const double a = 1.0 / std::sqrt(double(W.dim(1)));
  for (auto& v : W.data) v = T(rng.uniform(-a, a));
  for (auto& v : b.data) v = T(rng.uniform(-a, a));
}

}  // namespace recur
