// The ListOps generator, parser and evaluator (recur/data/listops.h).
#include "recur/data/listops.h"

#include <algorithm>
#include <sstream>

#include "recur/core/error.h"

namespace recur {
namespace {

const char* kOps[] = {"[MAX", "[MIN", "[MED", "[SM"};

void emit(Rng& rng, const ListOpsOptions& o, int depth, std::vector<std::string>& out) {
  const int op = int(rng.below(4));
  out.push_back(kOps[op]);
  const int args = 2 + int(rng.below(uint64_t(o.max_args - 1)));
  for (int a = 0; a < args; ++a) {
    if (depth + 1 >= o.max_depth || rng.uniform() < o.leaf_probability)
      out.push_back(std::to_string(rng.below(10)));
    else
      emit(rng, o, depth + 1, out);
  }
  out.push_back("]");
}

}  // namespace

ListOpsExample generate_listops(Rng& rng, const ListOpsOptions& o) {
  RECUR_CHECK(o.max_depth >= 1 && o.max_args >= 2 && o.max_tokens >= 4 && o.leaf_probability >= 0 &&
                  o.leaf_probability <= 1,
              "ListOps: expected max_depth >= 1, max_args >= 2, max_tokens >= 4, leaf probability in [0, 1]");
  for (;;) {
    std::vector<std::string> tokens;
    emit(rng, o, 0, tokens);
    if (int64_t(tokens.size()) > o.max_tokens) continue;
    std::string s;
    for (const auto& t : tokens) s += (s.empty() ? "" : " ") + t;
    return {s, evaluate_listops(parse_listops(s, "generated"))};
  }
}

ListOpsTree parse_listops(const std::string& expression, const std::string& source) {
  std::istringstream in(expression);
  std::string tok;
  ListOpsTree t;
  // Open operators: their token and the children gathered so far.
  std::vector<std::pair<int, std::vector<int64_t>>> open;
  int64_t position = 0;
  bool done = false;
  while (in >> tok) {
    ++position;
    RECUR_CHECK(!done, source << ": token " << position << " '" << tok
                              << "' follows the end of the expression");
    int id = -1;
    if (tok.size() == 1 && tok[0] >= '0' && tok[0] <= '9') id = tok[0] - '0';
    for (int k = 0; k < 4; ++k)
      if (tok == kOps[k]) id = 10 + k;
    if (tok == "]") {
      RECUR_CHECK(!open.empty(), source << ": token " << position << " ']' closes nothing");
      auto [op, kids] = std::move(open.back());
      open.pop_back();
      RECUR_CHECK(!kids.empty(), source << ": token " << position << " closes an operator with no arguments");
      t.token.push_back(op);
      t.children.push_back(std::move(kids));
      const int64_t node = int64_t(t.token.size()) - 1;
      if (open.empty()) done = true;
      else open.back().second.push_back(node);
      continue;
    }
    RECUR_CHECK(id >= 0, source << ": token " << position << " '" << tok
                                << "' is not a digit, [MAX, [MIN, [MED, [SM or ]");
    if (id >= 10) {
      open.push_back({id, {}});
      continue;
    }
    t.token.push_back(id);
    t.children.push_back({});
    const int64_t node = int64_t(t.token.size()) - 1;
    if (open.empty()) {
      RECUR_CHECK(position == 1, source << ": token " << position << " is outside the expression");
      done = true;
    } else {
      open.back().second.push_back(node);
    }
  }
  RECUR_CHECK(position > 0, source << ": the expression is empty");
  RECUR_CHECK(open.empty(), source << ": " << open.size() << " operator(s) are not closed with ]");
  return t;
}

int evaluate_listops(const ListOpsTree& tree) {
  std::vector<int> value(tree.token.size());
  for (size_t n = 0; n < tree.token.size(); ++n) {
    const int tok = tree.token[n];
    if (tok < 10) {
      value[n] = tok;
      continue;
    }
    std::vector<int> args;
    for (int64_t c : tree.children[n]) args.push_back(value[size_t(c)]);
    std::sort(args.begin(), args.end());
    const size_t k = args.size();
    int sum = 0;
    for (int a : args) sum += a;
    switch (tok) {
      case 10: value[n] = args.back(); break;
      case 11: value[n] = args.front(); break;
      case 12: value[n] = k % 2 ? args[k / 2] : (args[k / 2 - 1] + args[k / 2]) / 2; break;
      default: value[n] = sum % 10;
    }
  }
  return value.back();
}

namespace {

int64_t add_node(TokenTree& out, int token, std::vector<int64_t> children) {
  out.token.push_back(token);
  out.children.push_back(std::move(children));
  return int64_t(out.token.size()) - 1;
}

int64_t binarize(const ListOpsTree& t, int64_t node, TokenTree& out) {
  const int tok = t.token[size_t(node)];
  if (tok < 10) return add_node(out, tok, {});
  int64_t s = add_node(out, tok, {});
  for (int64_t c : t.children[size_t(node)]) {
    const int64_t arg = binarize(t, c, out);
    s = add_node(out, 15, {s, arg});
  }
  const int64_t close = add_node(out, 14, {});
  return add_node(out, 15, {s, close});
}

}  // namespace

TokenTree binarize_listops(const ListOpsTree& tree) {
  TokenTree out;
  binarize(tree, tree.root(), out);
  return out;
}

}  // namespace recur
