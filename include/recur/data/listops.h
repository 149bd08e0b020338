// ListOps (Nangia & Bowman 2018): nested list operations over the digits 0-9, whose value is a
// digit; a sequence model must find the tree in the flat token string, a tree model is given it.
//
//   [MAX 2 9 [MIN 4 7 ] 0 ]  ->  9        MAX, MIN of the arguments
//   [MED 3 1 8 6 ]           ->  4        median: the middle value, the mean of the two middle
//                                         values rounded down for an even count (int(np.median))
//   [SM 5 7 [MAX 1 2 ] ]     ->  4        sum modulo 10
//
// Tokens are separated by single spaces: "[MAX", "[MIN", "[MED", "[SM", "]", "0".."9".
//
// Generator (documented, seeded): the root is an operator; each operator draws its operator
// uniformly and its argument count uniformly in [2, max_args]; each argument is a digit with
// probability leaf_probability, or when the depth would exceed max_depth, and otherwise another
// operator. Expressions longer than max_tokens are drawn again. The paper's data used depth 10,
// up to 10 arguments and 500-2000 tokens; recur's defaults (depth 6, up to 5 arguments, at most
// 300 tokens) keep a run within minutes on two cores.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recur/core/rng.h"
#include "recur/data/token_tree.h"

namespace recur {

struct ListOpsOptions {
  int max_depth = 6;
  int max_args = 5;
  double leaf_probability = 0.25;
  int64_t max_tokens = 300;
};

struct ListOpsExample {
  std::string expression;  // space-separated tokens
  int value = 0;           // 0..9
};

ListOpsExample generate_listops(Rng& rng, const ListOpsOptions& o = {});

// A parsed expression (recur/data/token_tree.h): node tokens 0..9 a digit, 10 MAX, 11 MIN,
// 12 MED, 13 SM; nodes in post-order, the root last.
using ListOpsTree = TokenTree;
inline constexpr int kListOpsTokens = 14;

// Parses an expression; throws recur::Error naming `source` and the token position on a malformed
// one (an unknown token, an operator without arguments, unbalanced brackets, trailing tokens).
ListOpsTree parse_listops(const std::string& expression, const std::string& source);

// The value of a parsed expression.
int evaluate_listops(const ListOpsTree& tree);

// The binarised form of Nangia & Bowman's data, ( ( ( [MAX 2 ) 9 ) ] ): an operator node with
// arguments a_1..a_k becomes a left-branching fold, s = [OP; s = (s, a_1); ...; s = (s, a_k);
// s = (s, ]), so every node has at most two children. Tokens: the nested tree's 0..13, 14 for "]",
// 15 for a composition node (no token of its own).
TokenTree binarize_listops(const ListOpsTree& tree);
inline constexpr int kListOpsBinaryTokens = 16;

}  // namespace recur
