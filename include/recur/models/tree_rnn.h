// Recursive (tree-structured) networks (the seeds' recursive neural networks): a node's state is
// composed from its token's embedding and its children's states, bottom-up to the root, which a
// linear layer classifies. Depth O(log n) for balanced trees instead of a chain's n; a chain
// degenerates to a plain RNN.
//
//   recursive   h_j = tanh(W x_j + U sum_k h_k + b)
//   tree_lstm   child-sum Tree-LSTM (Tai et al. 2015):
//                 hs = sum_k h_k
//                 i = sigmoid(W_i x + U_i hs + b_i), o = sigmoid(W_o x + U_o hs + b_o),
//                 u = tanh(W_u x + U_u hs + b_u)
//                 f_k = sigmoid(W_f x + U_f h_k + b_f)         one forget gate per child
//                 c = i * u + sum_k f_k * c_k,   h = o * tanh(c)
//   (leaves have no children: hs = 0, c = i * u)
//   binary_lstm N-ary Tree-LSTM with N = 2 (Tai et al. 2015): left and right child weighted apart,
//                 [i; o; u] from W x + U [h_l; h_r] + b, f_l and f_r from W_f x + U_f [h_l; h_r] + b_f,
//                 c = i * u + f_l * c_l + f_r * c_r; at most two children per node
//
// Batching by depth: the trees of a batch form one Forest whose nodes are ordered by height
// (leaves 0, a parent 1 + its highest child), so each height is a contiguous block of rows computed
// with one GEMM per weight, children before parents.
//
// Key: N = nodes, E = edges (child links), R = roots (trees), V = tokens, D = embedding, H = hidden,
// C = classes.
//   embedding (V,D)
//   recursive: w (H,D), u (H,H), b (H)
//   tree_lstm: w (4H,D) rows i, o, u, f;  u (3H,H) for i, o, u;  u_f (H,H);  b (4H)
//   binary_lstm: w (5H,D) rows i, o, u, f_l, f_r;  u (3H,2H);  u_f (2H,2H);  b (5H)
//   w_out (C,H), b_out (C)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "recur/core/rng.h"
#include "recur/core/tensor.h"
#include "recur/data/token_tree.h"
#include "recur/nn/param_visitor.h"

namespace recur {

enum class TreeCell { recursive, tree_lstm, binary_lstm };
const char* tree_cell_name(TreeCell c);
TreeCell parse_tree_cell(const std::string& name);  // "recursive", "tree_lstm", "binary_lstm"

struct Forest {
  std::vector<int64_t> token;        // (N)
  std::vector<int64_t> child_start;  // (N+1): node n's edges are [child_start[n], child_start[n+1])
  std::vector<int64_t> child;        // (E) the child node of each edge
  std::vector<int64_t> parent;       // (E) the parent node of each edge
  std::vector<int64_t> level_start;  // heights: rows [level_start[l], level_start[l+1])
  std::vector<int64_t> roots;        // (R)
  int64_t nodes() const { return int64_t(token.size()); }
  int64_t edges() const { return int64_t(child.size()); }
};

// Batches trees (tokens in [0, vocab)); throws naming the tree and node on a malformed one.
Forest make_forest(const std::vector<const TokenTree*>& trees, int64_t vocab);

struct TreeRnnConfig {
  TreeCell cell = TreeCell::tree_lstm;
  int64_t vocab = 0, embed = 32, hidden = 64, classes = 0;
  void validate() const;
  std::map<std::string, std::string> to_metadata() const;
  static TreeRnnConfig from_metadata(const std::map<std::string, std::string>& m);
};

template <class T>
struct TreeRnn : NamedParams<TreeRnn<T>, T> {
  TreeRnnConfig config;
  Tensor<T> embedding, w, u, u_f, b, w_out, b_out;  // u_f: tree_lstm only

  TreeRnn() = default;
  explicit TreeRnn(const TreeRnnConfig& cfg);  // zeros of the right shapes
  static void visit_params(auto& self, auto&& f) {
    f("embedding.weight", self.embedding);
    f("cell.w", self.w);
    f("cell.u", self.u);
    if (self.config.cell != TreeCell::recursive) f("cell.u_f", self.u_f);
    f("cell.b", self.b);
    f("decoder.weight", self.w_out);
    f("decoder.bias", self.b_out);
  }
};

// Embedding N(0,1); weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)); Tree-LSTM forget bias 1.
template <class T>
void init_tree_rnn(TreeRnn<T>& m, Rng& rng);

template <class T>
struct TreeCache {
  Tensor<T> x;      // (N,D) embeddings
  Tensor<T> hs;     // (N,H) sum of the children's h; binary_lstm: (N,2H) [h_left; h_right]
  Tensor<T> gates;  // (N,3H) i, o, u (the LSTM compositions)
  Tensor<T> f;      // (E,H) forget gates per edge (tree_lstm); (N,2H) per node (binary_lstm)
  Tensor<T> c, h;   // (N,H)
};

// logits (R,C) for the forest's roots.
template <class T>
void tree_forward(Tensor<T>& logits, TreeCache<T>& cache, const TreeRnn<T>& m, const Forest& f);

// Gradients of a loss with d loss / d logits = dlogits (R,C), accumulated (+=) into grads.
template <class T>
void tree_backward(TreeRnn<T>& grads, const TreeCache<T>& cache, const TreeRnn<T>& m,
                   const Forest& f, const Tensor<T>& dlogits);

}  // namespace recur
