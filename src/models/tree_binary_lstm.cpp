// Binary (N-ary with N = 2) Tree-LSTM (Tai et al. 2015): the left and right child have their own
// weights, so the composition knows which is which (a left-branching fold over an operator's
// arguments, as in ListOps' binarised trees). A node has at most two children; a missing one is 0.
//   forward:  hcat = [h_left; h_right]                          (m,2H)
//             z = x W^T + b                                     (m,5H) rows i, o, u, f_left, f_right
//             z[:, :3H] += hcat U^T;   z[:, 3H:] += hcat U_f^T
//             i = cpu::sigmoid(z_i), o = cpu::sigmoid(z_o), u = tanh(z_u), f_k = cpu::sigmoid(z_fk)
//             c = i * u + f_left * c_left + f_right * c_right,   h = o * tanh(c)
//   backward: dc += dh * o * (1 - tanh^2 c);  do = dh * tanh c
//             di = dc * u;  du = dc * i;  df_k = dc * c_k;  dc_k += dc * f_k
//             dz = (di i(1-i), do o(1-o), du (1-u^2), df_k f_k (1-f_k))
//             dW += dz^T x,  db += sum dz,  dx = dz W
//             dU += dz_iou^T hcat,  dU_f += dz_f^T hcat,  dhcat = dz_iou U + dz_f U_f
// Cache: hs holds hcat (N,2H), gates (N,3H) i o u, f (N,2H) the two forget gates.
// Parameters +=, activations =.
#include "models/tree_cells.h"

#include <cmath>

#include "kernels/cpu/activations.h"
#include "recur/core/gemm.h"

namespace recur::tree {

template <class T>
void binary_lstm_forward(TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f, const Block& blk) {
  const int64_t D = m.config.embed, H = m.config.hidden, n = blk.rows();
  std::vector<T> z(static_cast<size_t>(n * 5 * H));
  for (int64_t r = 0; r < n; ++r) std::copy_n(m.b.ptr(), 5 * H, z.data() + r * 5 * H);
  gemm<T>(false, true, n, 5 * H, D, T(1), c.x.ptr() + blk.a * D, D, m.w.ptr(), D, T(1), z.data(), 5 * H);
  const T* hcat = c.hs.ptr() + blk.a * 2 * H;
  gemm<T>(false, true, n, 3 * H, 2 * H, T(1), hcat, 2 * H, m.u.ptr(), 2 * H, T(1), z.data(), 5 * H);
  gemm<T>(false, true, n, 2 * H, 2 * H, T(1), hcat, 2 * H, m.u_f.ptr(), 2 * H, T(1), z.data() + 3 * H, 5 * H);
  for (int64_t r = 0; r < n; ++r) {
    const int64_t node = blk.a + r;
    const T* zr = z.data() + r * 5 * H;
    T* g = c.gates.ptr() + node * 3 * H;
    T* fg = c.f.ptr() + node * 2 * H;
    T* cn = c.c.ptr() + node * H;
    for (int64_t j = 0; j < H; ++j) {
      g[j] = cpu::sigmoid(zr[j]);
      g[H + j] = cpu::sigmoid(zr[H + j]);
      g[2 * H + j] = std::tanh(zr[2 * H + j]);
      fg[j] = cpu::sigmoid(zr[3 * H + j]);
      fg[H + j] = cpu::sigmoid(zr[4 * H + j]);
      cn[j] = g[j] * g[2 * H + j];
    }
    for (int64_t e = f.child_start[size_t(node)], k = 0; e < f.child_start[size_t(node + 1)]; ++e, ++k) {
      const T* ck = c.c.ptr() + f.child[size_t(e)] * H;
      for (int64_t j = 0; j < H; ++j) cn[j] += fg[k * H + j] * ck[j];
    }
    T* hn = c.h.ptr() + node * H;
    for (int64_t j = 0; j < H; ++j) hn[j] = g[H + j] * std::tanh(cn[j]);
  }
}

template <class T>
void binary_lstm_backward(TreeRnn<T>& g, T* dx, T* dhcat, Tensor<T>& dh_all, Tensor<T>& dc_all,
                          const TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f, const Block& blk) {
  const int64_t D = m.config.embed, H = m.config.hidden, n = blk.rows();
  std::vector<T> dz(static_cast<size_t>(n * 5 * H), T(0));
  for (int64_t r = 0; r < n; ++r) {
    const int64_t node = blk.a + r;
    const T* gt = c.gates.ptr() + node * 3 * H;
    const T* fg = c.f.ptr() + node * 2 * H;
    const T* cn = c.c.ptr() + node * H;
    const T* dh = dh_all.ptr() + node * H;
    T* dc = dc_all.ptr() + node * H;
    T* dzr = dz.data() + r * 5 * H;
    lstm_node_iou_backward(dzr, dc, gt, cn, dh, H);
    for (int64_t e = f.child_start[size_t(node)], k = 0; e < f.child_start[size_t(node + 1)]; ++e, ++k) {
      const int64_t child = f.child[size_t(e)];
      const T* ck = c.c.ptr() + child * H;
      T* dck = dc_all.ptr() + child * H;
      for (int64_t j = 0; j < H; ++j) {
        const T fk = fg[k * H + j];
        dzr[(3 + k) * H + j] = dc[j] * ck[j] * fk * (T(1) - fk);
        dck[j] += dc[j] * fk;
      }
    }
  }
  gemm<T>(true, false, 5 * H, D, n, T(1), dz.data(), 5 * H, c.x.ptr() + blk.a * D, D, T(1), g.w.ptr(), D);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < 5 * H; ++j) g.b[j] += dz[size_t(r * 5 * H + j)];
  gemm<T>(false, false, n, D, 5 * H, T(1), dz.data(), 5 * H, m.w.ptr(), D, T(0), dx, D);
  const T* hcat = c.hs.ptr() + blk.a * 2 * H;
  gemm<T>(true, false, 3 * H, 2 * H, n, T(1), dz.data(), 5 * H, hcat, 2 * H, T(1), g.u.ptr(), 2 * H);
  gemm<T>(true, false, 2 * H, 2 * H, n, T(1), dz.data() + 3 * H, 5 * H, hcat, 2 * H, T(1), g.u_f.ptr(), 2 * H);
  gemm<T>(false, false, n, 2 * H, 3 * H, T(1), dz.data(), 5 * H, m.u.ptr(), 2 * H, T(0), dhcat, 2 * H);
  gemm<T>(false, false, n, 2 * H, 2 * H, T(1), dz.data() + 3 * H, 5 * H, m.u_f.ptr(), 2 * H, T(1), dhcat, 2 * H);
}

template void binary_lstm_forward<float>(TreeCache<float>&, const TreeRnn<float>&, const Forest&, const Block&);
template void binary_lstm_forward<double>(TreeCache<double>&, const TreeRnn<double>&, const Forest&, const Block&);
template void binary_lstm_backward<float>(TreeRnn<float>&, float*, float*, Tensor<float>&, Tensor<float>&,
                                          const TreeCache<float>&, const TreeRnn<float>&, const Forest&,
                                          const Block&);
template void binary_lstm_backward<double>(TreeRnn<double>&, double*, double*, Tensor<double>&,
                                           Tensor<double>&, const TreeCache<double>&, const TreeRnn<double>&,
                                           const Forest&, const Block&);

}  // namespace recur::tree
