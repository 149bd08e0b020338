// Plain recursive composition: h = tanh(W x + U hs + b), hs = the sum of the children's h.
//   forward:  z = x W^T + hs U^T + b                (m,H)
//             h = tanh(z)
//   backward: dz = dh * (1 - h^2)
//             dW += dz^T x,  dU += dz^T hs,  db += sum dz
//             dx = dz W,     dhs = dz U
// Parameters +=, activations =.
#include "models/tree_cells.h"

#include <cmath>

#include "recur/core/gemm.h"

namespace recur::tree {

template <class T>
void recursive_forward(TreeCache<T>& c, const TreeRnn<T>& m, const Forest&, const Block& blk) {
  const int64_t D = m.config.embed, H = m.config.hidden, n = blk.rows();
  T* h = c.h.ptr() + blk.a * H;
  for (int64_t r = 0; r < n; ++r) std::copy_n(m.b.ptr(), H, h + r * H);
  gemm<T>(false, true, n, H, D, T(1), c.x.ptr() + blk.a * D, D, m.w.ptr(), D, T(1), h, H);
  gemm<T>(false, true, n, H, H, T(1), c.hs.ptr() + blk.a * H, H, m.u.ptr(), H, T(1), h, H);
  for (int64_t k = 0; k < n * H; ++k) h[k] = std::tanh(h[k]);
}

template <class T>
void recursive_backward(TreeRnn<T>& g, T* dx, T* dhs, const T* dh, const TreeCache<T>& c,
                        const TreeRnn<T>& m, const Forest&, const Block& blk) {
  const int64_t D = m.config.embed, H = m.config.hidden, n = blk.rows();
  const T* h = c.h.ptr() + blk.a * H;
  std::vector<T> dz(static_cast<size_t>(n * H));
  for (int64_t k = 0; k < n * H; ++k) dz[size_t(k)] = dh[k] * (T(1) - h[k] * h[k]);
  gemm<T>(true, false, H, D, n, T(1), dz.data(), H, c.x.ptr() + blk.a * D, D, T(1), g.w.ptr(), D);
  gemm<T>(true, false, H, H, n, T(1), dz.data(), H, c.hs.ptr() + blk.a * H, H, T(1), g.u.ptr(), H);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < H; ++j) g.b[j] += dz[size_t(r * H + j)];
  gemm<T>(false, false, n, D, H, T(1), dz.data(), H, m.w.ptr(), D, T(0), dx, D);
  gemm<T>(false, false, n, H, H, T(1), dz.data(), H, m.u.ptr(), H, T(0), dhs, H);
}

template void recursive_forward<float>(TreeCache<float>&, const TreeRnn<float>&, const Forest&, const Block&);
template void recursive_forward<double>(TreeCache<double>&, const TreeRnn<double>&, const Forest&, const Block&);
template void recursive_backward<float>(TreeRnn<float>&, float*, float*, const float*, const TreeCache<float>&,
                                        const TreeRnn<float>&, const Forest&, const Block&);
template void recursive_backward<double>(TreeRnn<double>&, double*, double*, const double*,
                                         const TreeCache<double>&, const TreeRnn<double>&, const Forest&,
                                         const Block&);

}  // namespace recur::tree
