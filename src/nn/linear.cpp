// Fully connected layer forward and backward through recur::gemm; equations in recur/nn/linear.h.
//
// Shapes key: N = rows, I = input features, O = output features.
// Gradient rule: parameter gradients (dW, db) accumulate (+=); activation gradients (dx) assign
// (=).
#include "recur/nn/linear.h"

#include "recur/core/gemm.h"

namespace recur {

template <class T>
void linear_forward(T* y, const T* x, const T* W, const T* b, int64_t N, int64_t I, int64_t O) {
  if (N == 0 || O == 0) return;
  // y (N,O) = x (N,I) @ W^T (I,O)
  gemm<T>(false, true, N, O, I, T(1), x, I, W, I, T(0), y, O);
  if (b) {
    for (int64_t n = 0; n < N; ++n) {
      T* row = y + n * O;
      for (int64_t o = 0; o < O; ++o) row[o] += b[o];
    }
  }
}

template <class T>
void linear_backward(T* dx, T* dW, T* db, const T* dy, const T* x, const T* W, int64_t N, int64_t I,
                     int64_t O) {
  if (N == 0) return;  // nothing accumulates; dx (0,I) is empty
  // dW (O,I) += dy^T (O,N) @ x (N,I)
  if (O > 0 && I > 0) gemm<T>(true, false, O, I, N, T(1), dy, O, x, I, T(1), dW, I);
  if (db) {
    for (int64_t n = 0; n < N; ++n) {
      const T* row = dy + n * O;
      for (int64_t o = 0; o < O; ++o) db[o] += row[o];
    }
  }
  // dx (N,I) = dy (N,O) @ W (O,I)
  if (dx && I > 0) {
    if (O > 0) {
      gemm<T>(false, false, N, I, O, T(1), dy, O, W, I, T(0), dx, I);
    } else {
      for (int64_t i = 0; i < N * I; ++i) dx[i] = T(0);
    }
  }
}

template void linear_forward<float>(float*, const float*, const float*, const float*, int64_t,
                                    int64_t, int64_t);
template void linear_forward<double>(double*, const double*, const double*, const double*, int64_t,
                                     int64_t, int64_t);
template void linear_backward<float>(float*, float*, float*, const float*, const float*,
                                     const float*, int64_t, int64_t, int64_t);
template void linear_backward<double>(double*, double*, double*, const double*, const double*,
                                      const double*, int64_t, int64_t, int64_t);

}  // namespace recur
