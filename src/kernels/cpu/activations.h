// Vectorised activations for the cells' pointwise kernels: sigmoid and tanh over a contiguous run.
//
// float: exp by range reduction x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial (relative
// error below 2e-7, i.e. ~2 float ulps), 2^n by building the exponent bits; the loops carry
// `omp simd` so they compile to AVX-512/AVX2 lanes. double (gradient checks): the libm functions,
// exactly. Inputs are clamped to |x| <= 87 (sigmoid) / 44 (tanh), where the results are saturated
// to float precision anyway.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace recur::cpu {

inline float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : (x > 87.0f ? 87.0f : x);
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = x - n * 0.693145751953125f - n * 1.42860682030941723212e-6f;  // Cody-Waite
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// One exact sigmoid, for the scalar loops that need no vector kernel (tree cells, RTRL, the
// layer-normalised cells).
template <class T>
inline T sigmoid(T z) {
  return T(1) / (T(1) + std::exp(-z));
}

// One value each, inlined into the cells' fused `omp simd` loops.
inline float sigmoid_approx(float x) { return 1.0f / (1.0f + exp_approx(-x)); }
// tanh(x) = sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}); absolute error ~1e-7.
inline float tanh_approx(float x) {
  const float a = std::fabs(x);
  const float e = exp_approx(-2.0f * (a > 44.0f ? 44.0f : a));
  return std::copysign((1.0f - e) / (1.0f + e), x);
}

// x[k] = sigmoid(x[k]) = 1 / (1 + e^-x)
inline void sigmoid_inplace(float* x, int64_t n) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) x[k] = sigmoid_approx(x[k]);
}
inline void sigmoid_inplace(double* x, int64_t n) {
  for (int64_t k = 0; k < n; ++k) x[k] = 1.0 / (1.0 + std::exp(-x[k]));
}

// x[k] = tanh(x[k])
inline void tanh_inplace(float* x, int64_t n) {
#pragma omp simd
  for (int64_t k = 0; k < n; ++k) x[k] = tanh_approx(x[k]);
}
inline void tanh_inplace(double* x, int64_t n) {
  for (int64_t k = 0; k < n; ++k) x[k] = std::tanh(x[k]);
}

}  // namespace recur::cpu
