// ListOps: the evaluator on hand-checked expressions, the parser's errors, the generator's
// determinism and limits.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "recur/data/listops.h"

namespace recur {
namespace {

int value_of(const std::string& s) { return evaluate_listops(parse_listops(s, "test")); }

TEST(ListOps, EvaluatesTheFourOperators) {
  EXPECT_EQ(value_of("[MAX 2 9 [MIN 4 7 ] 0 ]"), 9);
  EXPECT_EQ(value_of("[MIN 2 9 [MAX 4 7 ] 1 ]"), 1);
  EXPECT_EQ(value_of("[MED 3 1 8 6 ]"), 4);  // (3 + 6) / 2 rounded down
  EXPECT_EQ(value_of("[MED 3 1 8 ]"), 3);
  EXPECT_EQ(value_of("[SM 5 7 [MAX 1 2 ] ]"), 4);
  EXPECT_EQ(value_of("7"), 7);
  const ListOpsTree t = parse_listops("[SM 5 [MIN 4 7 ] ]", "test");
  EXPECT_EQ(t.token, (std::vector<int>{5, 4, 7, 11, 13}));
  EXPECT_EQ(t.children[4], (std::vector<int64_t>{0, 3}));
}

TEST(ListOps, BinarisedTreeIsALeftBranchingFold) {
  // [SM 5 [MIN 4 7 ] ]: ((([SM, 5), (([MIN, 4), 7), ])), ])
  const TokenTree b = binarize_listops(parse_listops("[SM 5 [MIN 4 7 ] ]", "test"));
  EXPECT_EQ(b.token, (std::vector<int>{13, 5, 15, 11, 4, 15, 7, 15, 14, 15, 15, 14, 15}));
  for (size_t n = 0; n < b.token.size(); ++n) {
    EXPECT_LE(b.children[n].size(), 2u);
    EXPECT_EQ(b.children[n].empty(), b.token[n] != 15) << "node " << n;
    for (int64_t c : b.children[n]) EXPECT_LT(c, int64_t(n));
  }
  EXPECT_EQ(b.children.back(), (std::vector<int64_t>{10, 11}));
}

TEST(ListOps, ParserNamesTheBadToken) {
  EXPECT_RECUR_ERROR(parse_listops("[MAX 2 [FOO 3 ] ]", "f.tsv:3"), "f.tsv:3", "token 3 '[FOO'");
  EXPECT_RECUR_ERROR(parse_listops("[MAX 2 3", "x"), "not closed");
  EXPECT_RECUR_ERROR(parse_listops("[MAX ]", "x"), "no arguments");
  EXPECT_RECUR_ERROR(parse_listops("[MAX 2 ] 3", "x"), "follows the end");
  EXPECT_RECUR_ERROR(parse_listops("2 ]", "x"), "follows the end");
  EXPECT_RECUR_ERROR(parse_listops("", "x"), "empty");
}

TEST(ListOps, GeneratorIsDeterministicAndWithinLimits) {
  ListOpsOptions o;
  o.max_depth = 4;
  o.max_args = 4;
  o.max_tokens = 60;
  Rng a(7), b(7);
  int counts[10] = {};
  for (int i = 0; i < 300; ++i) {
    const ListOpsExample x = generate_listops(a, o), y = generate_listops(b, o);
    EXPECT_EQ(x.expression, y.expression);
    EXPECT_EQ(x.value, value_of(x.expression));
    const ListOpsTree t = parse_listops(x.expression, "gen");
    EXPECT_LE(int64_t(2 * t.token.size()), 2 * 60);
    ++counts[x.value];
  }
  for (int v = 0; v < 10; ++v) EXPECT_GT(counts[v], 0) << "value " << v << " never generated";
}

}  // namespace
}  // namespace recur
