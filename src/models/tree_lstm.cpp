// Child-sum Tree-LSTM composition (Tai et al. 2015), one height at a time.
//   forward:  z = x W^T + b                                  (m,4H) rows i, o, u, f
//             z[:, :3H] += hs U_iou^T
//             i = cpu::sigmoid(z_i), o = cpu::sigmoid(z_o), u = tanh(z_u)
//             per edge e = (p, k):  f_e = cpu::sigmoid(z_f[p] + h_k U_f^T)
//             c = i * u + sum_e f_e * c_k,   h = o * tanh(c)
//   backward (dh, dc of the block; dc already holds what the parents sent):
//             dc += dh * o * (1 - tanh^2 c);  do = dh * tanh c
//             di = dc * u;  du = dc * i;  per edge: df_e = dc_p * c_k,  dc_k += dc_p * f_e
//             dz_i = di i (1-i), dz_o = do o (1-o), dz_u = du (1 - u^2), dzf_e = df_e f_e (1-f_e),
//             dz_f[p] = sum over p's edges of dzf_e
//             dW += dz^T x,  db += sum dz,  dx = dz W
//             dU_iou += dz_iou^T hs,  dhs = dz_iou U_iou
//             dU_f += dzf^T h_child,  dh_child += dzf U_f
// Parameters +=, activations =.
#include "models/tree_cells.h"

#include <cmath>

#include "kernels/cpu/activations.h"
#include "recur/core/gemm.h"

namespace recur::tree {

template <class T>
void tree_lstm_forward(TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f, const Block& blk) {
  const int64_t D = m.config.embed, H = m.config.hidden, n = blk.rows(), ne = blk.edges();
  std::vector<T> z(static_cast<size_t>(n * 4 * H));
  for (int64_t r = 0; r < n; ++r) std::copy_n(m.b.ptr(), 4 * H, z.data() + r * 4 * H);
  gemm<T>(false, true, n, 4 * H, D, T(1), c.x.ptr() + blk.a * D, D, m.w.ptr(), D, T(1), z.data(), 4 * H);
  gemm<T>(false, true, n, 3 * H, H, T(1), c.hs.ptr() + blk.a * H, H, m.u.ptr(), H, T(1), z.data(), 4 * H);
  // Forget gates, one per edge: z_f of the parent plus the child's h through U_f.
  if (ne > 0) {
    std::vector<T> hk(static_cast<size_t>(ne * H));
    for (int64_t e = 0; e < ne; ++e) {
      const int64_t edge = blk.ea + e;
      std::copy_n(c.h.ptr() + f.child[size_t(edge)] * H, H, hk.data() + e * H);
      std::copy_n(z.data() + (f.parent[size_t(edge)] - blk.a) * 4 * H + 3 * H, H, c.f.ptr() + edge * H);
    }
    gemm<T>(false, true, ne, H, H, T(1), hk.data(), H, m.u_f.ptr(), H, T(1), c.f.ptr() + blk.ea * H, H);
    for (int64_t k = blk.ea * H; k < blk.eb * H; ++k) c.f[k] = cpu::sigmoid(c.f[k]);
  }
  for (int64_t r = 0; r < n; ++r) {
    const int64_t node = blk.a + r;
    T* g = c.gates.ptr() + node * 3 * H;
    const T* zr = z.data() + r * 4 * H;
    T* cn = c.c.ptr() + node * H;
    for (int64_t j = 0; j < H; ++j) {
      g[j] = cpu::sigmoid(zr[j]);
      g[H + j] = cpu::sigmoid(zr[H + j]);
      g[2 * H + j] = std::tanh(zr[2 * H + j]);
      cn[j] = g[j] * g[2 * H + j];
    }
    for (int64_t e = f.child_start[size_t(node)]; e < f.child_start[size_t(node + 1)]; ++e) {
      const T* ck = c.c.ptr() + f.child[size_t(e)] * H;
      const T* fe = c.f.ptr() + e * H;
      for (int64_t j = 0; j < H; ++j) cn[j] += fe[j] * ck[j];
    }
    T* hn = c.h.ptr() + node * H;
    for (int64_t j = 0; j < H; ++j) hn[j] = g[H + j] * std::tanh(cn[j]);
  }
}

template <class T>
void tree_lstm_backward(TreeRnn<T>& g, T* dx, T* dhs, Tensor<T>& dh_all, Tensor<T>& dc_all,
                        const TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f, const Block& blk) {
  const int64_t D = m.config.embed, H = m.config.hidden, n = blk.rows(), ne = blk.edges();
  std::vector<T> dz(static_cast<size_t>(n * 4 * H), T(0)), dzf(static_cast<size_t>(ne * H));
  for (int64_t r = 0; r < n; ++r) {
    const int64_t node = blk.a + r;
    const T* gt = c.gates.ptr() + node * 3 * H;
    const T* cn = c.c.ptr() + node * H;
    const T* dh = dh_all.ptr() + node * H;
    T* dc = dc_all.ptr() + node * H;
    T* dzr = dz.data() + r * 4 * H;
    lstm_node_iou_backward(dzr, dc, gt, cn, dh, H);
    for (int64_t e = f.child_start[size_t(node)]; e < f.child_start[size_t(node + 1)]; ++e) {
      const int64_t k = f.child[size_t(e)];
      const T* fe = c.f.ptr() + e * H;
      const T* ck = c.c.ptr() + k * H;
      T* dck = dc_all.ptr() + k * H;
      T* dze = dzf.data() + (e - blk.ea) * H;
      for (int64_t j = 0; j < H; ++j) {
        dze[j] = dc[j] * ck[j] * fe[j] * (T(1) - fe[j]);
        dck[j] += dc[j] * fe[j];
        dzr[3 * H + j] += dze[j];
      }
    }
  }
  gemm<T>(true, false, 4 * H, D, n, T(1), dz.data(), 4 * H, c.x.ptr() + blk.a * D, D, T(1), g.w.ptr(), D);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < 4 * H; ++j) g.b[j] += dz[size_t(r * 4 * H + j)];
  gemm<T>(false, false, n, D, 4 * H, T(1), dz.data(), 4 * H, m.w.ptr(), D, T(0), dx, D);
  gemm<T>(true, false, 3 * H, H, n, T(1), dz.data(), 4 * H, c.hs.ptr() + blk.a * H, H, T(1), g.u.ptr(), H);
  gemm<T>(false, false, n, H, 3 * H, T(1), dz.data(), 4 * H, m.u.ptr(), H, T(0), dhs, H);
  if (ne > 0) {
    std::vector<T> hk(static_cast<size_t>(ne * H)), dhk(static_cast<size_t>(ne * H));
    for (int64_t e = 0; e < ne; ++e) std::copy_n(c.h.ptr() + f.child[size_t(blk.ea + e)] * H, H, hk.data() + e * H);
    gemm<T>(true, false, H, H, ne, T(1), dzf.data(), H, hk.data(), H, T(1), g.u_f.ptr(), H);
    gemm<T>(false, false, ne, H, H, T(1), dzf.data(), H, m.u_f.ptr(), H, T(0), dhk.data(), H);
    for (int64_t e = 0; e < ne; ++e) {
      T* dhc = dh_all.ptr() + f.child[size_t(blk.ea + e)] * H;
      for (int64_t j = 0; j < H; ++j) dhc[j] += dhk[size_t(e * H + j)];
    }
  }
}

template void tree_lstm_forward<float>(TreeCache<float>&, const TreeRnn<float>&, const Forest&, const Block&);
template void tree_lstm_forward<double>(TreeCache<double>&, const TreeRnn<double>&, const Forest&, const Block&);
template void tree_lstm_backward<float>(TreeRnn<float>&, float*, float*, Tensor<float>&, Tensor<float>&,
                                        const TreeCache<float>&, const TreeRnn<float>&, const Forest&,
                                        const Block&);
template void tree_lstm_backward<double>(TreeRnn<double>&, double*, double*, Tensor<double>&, Tensor<double>&,
                                         const TreeCache<double>&, const TreeRnn<double>&, const Forest&,
                                         const Block&);

}  // namespace recur::tree
