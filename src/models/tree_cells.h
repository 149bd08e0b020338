// The compositions of the recursive networks (recur/models/tree_rnn.h), one height (a block of
// rows [a, b) with edges [ea, eb)) at a time: src/models/tree_recursive.cpp, tree_lstm.cpp,
// tree_binary_lstm.cpp.
// Forward reads cache.x and cache.hs of the block and writes h (and the cell's own values).
// Backward reads dh (and dc) of the block, writes dx and dhs of the block (assigned), adds the
// children's dc (tree_lstm) and the parameter gradients (+=).
#pragma once

#include <cmath>

#include "recur/models/tree_rnn.h"

namespace recur::tree {

struct Block {
  int64_t a, b, ea, eb;  // rows, edges
  int64_t rows() const { return b - a; }
  int64_t edges() const { return eb - ea; }
};

template <class T>
void recursive_forward(TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f, const Block& blk);
template <class T>
void recursive_backward(TreeRnn<T>& g, T* dx, T* dhs, const T* dh, const TreeCache<T>& c,
                        const TreeRnn<T>& m, const Forest& f, const Block& blk);

template <class T>
void tree_lstm_forward(TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f, const Block& blk);
// dh_all, dc_all (N,H): the block's rows are read; the children's rows receive dh (through the
// forget gates' U_f) and dc.
template <class T>
void tree_lstm_backward(TreeRnn<T>& g, T* dx, T* dhs, Tensor<T>& dh_all, Tensor<T>& dc_all,
                        const TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f, const Block& blk);

template <class T>
void binary_lstm_forward(TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f, const Block& blk);
// dhcat (m,2H) assigned: the gradient of the block's [h_left; h_right].
template <class T>
void binary_lstm_backward(TreeRnn<T>& g, T* dx, T* dhcat, Tensor<T>& dh_all, Tensor<T>& dc_all,
                          const TreeCache<T>& c, const TreeRnn<T>& m, const Forest& f, const Block& blk);

// The part of one node's backward both Tree-LSTMs share, given its gates (i, o, u), c and dh:
// dc += dh o (1 - tanh(c)^2), then dz = (da_i, da_o, da_u) for the pre-activations.
template <class T>
void lstm_node_iou_backward(T* dz, T* dc, const T* gates, const T* c, const T* dh, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const T i = gates[j], o = gates[H + j], u = gates[2 * H + j], tc = std::tanh(c[j]);
    dc[j] += dh[j] * o * (T(1) - tc * tc);
    dz[j] = dc[j] * u * i * (T(1) - i);
    dz[H + j] = dh[j] * tc * o * (T(1) - o);
    dz[2 * H + j] = dc[j] * i * (T(1) - u * u);
  }
}

}  // namespace recur::tree
