// Activations for the cells' pointwise kernels: sigmoid and tanh over a contiguous run.
//
// float: the vector functions of simd.h (exp by range reduction and a polynomial, relative error
// ~2 float ulps; tanh's absolute error ~1e-7). double (gradient checks): the libm functions,
// exactly.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/cpu/simd.h"

namespace recur::cpu {

// One exact sigmoid, for the scalar loops that need no vector kernel (tree cells, RTRL, the
// layer-normalised cells).
template <class T>
inline T sigmoid(T z) {
  return T(1) / (T(1) + std::exp(-z));
}

// x[k] = sigmoid(x[k]) = 1 / (1 + e^-x)
inline void sigmoid_inplace(float* x, int64_t n) {
  simd::for_vectors(n, [x](const simd::Lanes& v) { v.store(x, simd::sigmoid(v.load(x))); });
}
inline void sigmoid_inplace(double* x, int64_t n) {
  for (int64_t k = 0; k < n; ++k) x[k] = 1.0 / (1.0 + std::exp(-x[k]));
}

// x[k] = tanh(x[k])
inline void tanh_inplace(float* x, int64_t n) {
  simd::for_vectors(n, [x](const simd::Lanes& v) { v.store(x, simd::tanh(v.load(x))); });
}
inline void tanh_inplace(double* x, int64_t n) {
  for (int64_t k = 0; k < n; ++k) x[k] = std::tanh(x[k]);
}

}  // namespace recur::cpu
