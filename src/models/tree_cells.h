// The compositions of the recursive networks (recur/models/tree_rnn.h), one height (a block of
// rows [a, b) with edges [ea, eb)) at a time: src/models/tree_recursive.cpp, tree_lstm.cpp,
// tree_binary_lstm.cpp.
// Forward reads cache.x and cache.hs of the block and writes h (and the cell's own values).
// Backward reads dh (and dc) of the block, writes dx and dhs of the block (assigned), adds the
// children's dc (tree_lstm) and the parameter gradients (+=).
#pragma once

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

}  // namespace recur::tree
