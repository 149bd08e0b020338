// TokenTree: a tree of tokens for the recursive networks (recur/models/tree_rnn.h), nodes listed
// in post-order (every child before its parent; the root last).
#pragma once

#include <cstdint>
#include <vector>

namespace recur {

struct TokenTree {
  std::vector<int> token;                      // per node
  std::vector<std::vector<int64_t>> children;  // per node, in order; empty for a leaf
  int64_t root() const { return int64_t(token.size()) - 1; }
};

}  // namespace recur
