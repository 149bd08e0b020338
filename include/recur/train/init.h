// Weight initialisers matching torch.nn.init, drawing from recur::Rng so a seed fixes the weights.
//
//   init_uniform:        w ~ U(-a, a); PyTorch's RNN default is a = 1/sqrt(H), H = hidden size
//   init_orthogonal:     w = gain * Q, Q from the QR factorisation of a standard Gaussian
//                        matrix with R's diagonal made positive (torch.nn.init.orthogonal_);
//                        a wide matrix is factored transposed, so its rows are orthonormal
//   init_identity:       w = scale * I (ones on the main diagonal if rectangular), for IRNN
//   init_xavier_uniform: w ~ U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)),
//                        fan_in = cols, fan_out = rows (times the trailing dims for rank > 2)
#pragma once

#include "recur/core/rng.h"
#include "recur/core/tensor.h"

namespace recur {

// Any rank; a >= 0.
template <class T>
void init_uniform(Tensor<T>& t, Rng& rng, T a);

// Rank >= 2: rows = dim(0), cols = numel / rows (trailing dims flattened, as torch does).
template <class T>
void init_orthogonal(Tensor<T>& t, Rng& rng, T gain = T(1));

// Rank 2.
template <class T>
void init_identity(Tensor<T>& t, T scale = T(1));

// Rank >= 2.
template <class T>
void init_xavier_uniform(Tensor<T>& t, Rng& rng, T gain = T(1));

}  // namespace recur
