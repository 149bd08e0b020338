// Inverted dropout: a mask of 1/(1-p) where a value is kept and 0 where it is dropped, drawn one
// value at a time from rng; the forward multiplies by it, and so does the backward.
#pragma once

#include "recur/core/rng.h"
#include "recur/core/tensor.h"

namespace recur {

// A fresh mask in `mask`, shaped `shape` (its storage reused when shaped alike).
template <class T>
void dropout_mask(Tensor<T>& mask, const Shape& shape, double p, Rng& rng) {
  const double keep = 1.0 - p;
  mask.reuse_as(shape);
  for (auto& m : mask.data) m = rng.bernoulli(keep) ? T(1.0 / keep) : T(0);
}

// x and d (the forward's values, the backward's gradient) times the mask, in place.
template <class T>
void scale_by_mask(Tensor<T>& d, const Tensor<T>& mask) {
  for (int64_t k = 0; k < mask.numel(); ++k) d[k] *= mask[k];
}

// Dropout on x in place, with its mask kept for the backward.
template <class T>
void inverted_dropout(Tensor<T>& x, Tensor<T>& mask, double p, Rng& rng) {
  dropout_mask(mask, x.shape, p, rng);
  scale_by_mask(x, mask);
}

}  // namespace recur
