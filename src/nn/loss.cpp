// Row softmax, log-softmax and fused softmax cross-entropy; equations in recur/nn/loss.h.
//
// Shapes key: N = rows, V = vocabulary (number of classes); z = logits (N,V), t = targets (N).
// Gradient rule: no parameters; the activation gradient (dlogits) is assigned (=).
// Row sums and the loss total accumulate in double so float results do not drift with V or N.
#include "recur/nn/loss.h"

#include <algorithm>
#include <cmath>

#include "recur/core/error.h"

namespace recur {

namespace {

// Returns the row maximum m and writes s = sum_v exp(z[v] - m).
template <class T>
T row_max_and_sum(const T* z, int64_t V, double* s) {
  const T m = *std::max_element(z, z + V);
  double acc = 0;
  for (int64_t v = 0; v < V; ++v) acc += double(std::exp(z[v] - m));
  *s = acc;
  return m;
}

}  // namespace

template <class T>
T softmax_cross_entropy(T* dlogits, const T* logits, const int64_t* targets, int64_t N, int64_t V,
                        int64_t ignore_index) {
  RECUR_CHECK(V > 0, "softmax_cross_entropy: vocabulary size is " << V << "; expected V > 0");
  int64_t count = 0;  // C: rows that contribute
  for (int64_t n = 0; n < N; ++n) {
    const int64_t t = targets[n];
    if (t == ignore_index) continue;
    RECUR_CHECK(t >= 0 && t < V, "softmax_cross_entropy: target "
                                     << t << " at row " << n
                                     << " is out of range; expected 0 <= target < " << V
                                     << " or the ignore index " << ignore_index);
    ++count;
  }
  if (count == 0) {
    if (dlogits) std::fill(dlogits, dlogits + N * V, T(0));
    return T(0);
  }
  const double inv_count = 1.0 / double(count);
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T* z = logits + n * V;                  // (V)
    T* dz = dlogits ? dlogits + n * V : nullptr;  // (V)
    const int64_t t = targets[n];
    if (t == ignore_index) {
      if (dz) std::fill(dz, dz + V, T(0));
      continue;
    }
    double s;
    const T m = row_max_and_sum(z, V, &s);
    total += double(m) + std::log(s) - double(z[t]);
    if (dz) {
      const double scale = inv_count / s;
      for (int64_t v = 0; v < V; ++v) dz[v] = T(double(std::exp(z[v] - m)) * scale);
      dz[t] -= T(inv_count);
    }
  }
  return T(total * inv_count);
}

template <class T>
void log_softmax(T* out, const T* logits, int64_t N, int64_t V) {
  RECUR_CHECK(V > 0, "log_softmax: row length is " << V << "; expected V > 0");
  for (int64_t n = 0; n < N; ++n) {
    const T* z = logits + n * V;
    double s;
    const T m = row_max_and_sum(z, V, &s);
    const T lse = T(double(m) + std::log(s));
    T* o = out + n * V;
    for (int64_t v = 0; v < V; ++v) o[v] = z[v] - lse;
  }
}

template <class T>
void softmax(T* out, const T* logits, int64_t N, int64_t V) {
  RECUR_CHECK(V > 0, "softmax: row length is " << V << "; expected V > 0");
  for (int64_t n = 0; n < N; ++n) {
    const T* z = logits + n * V;
    double s;
    const T m = row_max_and_sum(z, V, &s);
    const double inv = 1.0 / s;
    T* o = out + n * V;
    for (int64_t v = 0; v < V; ++v) o[v] = T(double(std::exp(z[v] - m)) * inv);
  }
}

template float softmax_cross_entropy<float>(float*, const float*, const int64_t*, int64_t, int64_t,
                                            int64_t);
template double softmax_cross_entropy<double>(double*, const double*, const int64_t*, int64_t,
                                              int64_t, int64_t);
template void log_softmax<float>(float*, const float*, int64_t, int64_t);
template void log_softmax<double>(double*, const double*, int64_t, int64_t);
template void softmax<float>(float*, const float*, int64_t, int64_t);
template void softmax<double>(double*, const double*, int64_t, int64_t);

}  // namespace recur
