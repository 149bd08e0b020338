// Batch-first <-> time-major: the one layout change the interfaces need (PyTorch's batch_first,
// ONNX's layout = 1).
#pragma once

#include <algorithm>

#include "recur/core/tensor.h"

namespace recur {

// (A, B, F) -> (B, A, F).
template <class T>
Tensor<T> swap_first_axes(const Tensor<T>& x) {
  RECUR_CHECK(x.rank() == 3, "swap_first_axes needs a rank-3 tensor, got " << x.shape_string());
  const int64_t A = x.dim(0), B = x.dim(1), F = x.dim(2);
  Tensor<T> y({B, A, F});
  for (int64_t a = 0; a < A; ++a)
    for (int64_t b = 0; b < B; ++b) std::copy_n(x.ptr() + (a * B + b) * F, F, y.ptr() + (b * A + a) * F);
  return y;
}

}  // namespace recur
