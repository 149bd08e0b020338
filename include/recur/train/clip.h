// Gradient clipping: by the global L2 norm of all gradients (torch.nn.utils.clip_grad_norm_) and by
// value (torch.nn.utils.clip_grad_value_).
//
//   norm = sqrt(sum over all params and elements of g^2)
//   g <- g * min(1, max_norm / (norm + 1e-6))     (PyTorch's coefficient, 1e-6 included)
//   clip by value: g <- min(max(g, -clip), clip)
#pragma once

#include <vector>

#include "recur/train/param.h"

namespace recur {

// Scales every gradient in place by the coefficient above and returns the pre-clip global norm.
// max_norm must be > 0. When the norm is not finite it is returned and the gradients are left as
// they are (PyTorch would scale them by NaN); the caller decides whether to skip the step.
template <class T>
T clip_grad_norm(const std::vector<Param<T>>& params, T max_norm);

// Clamps every gradient element to [-clip, clip]; clip must be > 0.
template <class T>
void clip_grad_value(const std::vector<Param<T>>& params, T clip);

}  // namespace recur
