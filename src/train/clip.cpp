// Global-norm and by-value gradient clipping; equations in recur/train/clip.h.
#include "recur/train/clip.h"

#include <algorithm>
#include <cmath>

#include "recur/core/error.h"

namespace recur {

template <class T>
T clip_grad_norm(const std::vector<Param<T>>& params, T max_norm) {
  RECUR_CHECK(max_norm > T(0), "clip_grad_norm: max_norm is " << max_norm << "; expected > 0");
  double sq = 0;  // accumulated in double: float sums of many squares lose digits
  for (const Param<T>& p : params) {
    for (const T g : p.grad->data) sq += double(g) * double(g);
  }
  const T norm = T(std::sqrt(sq));
  if (!std::isfinite(double(norm))) return norm;
  const T coef = max_norm / (norm + T(1e-6));  // computed in T, like PyTorch's tensor math
  if (coef < T(1)) {
    for (const Param<T>& p : params) {
      for (T& g : p.grad->data) g *= coef;
    }
  }
  return norm;
}

template <class T>
void clip_grad_value(const std::vector<Param<T>>& params, T clip) {
  RECUR_CHECK(clip > T(0), "clip_grad_value: clip is " << clip << "; expected > 0");
  for (const Param<T>& p : params) {
    for (T& g : p.grad->data) g = std::clamp(g, -clip, clip);
  }
}

template float clip_grad_norm<float>(const std::vector<Param<float>>&, float);
template double clip_grad_norm<double>(const std::vector<Param<double>>&, double);
template void clip_grad_value<float>(const std::vector<Param<float>>&, float);
template void clip_grad_value<double>(const std::vector<Param<double>>&, double);

}  // namespace recur
