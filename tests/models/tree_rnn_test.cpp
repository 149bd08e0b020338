// Recursive networks over trees: finite-difference gradients (double) of every parameter for both
// compositions on a batch of mixed trees; a chain is a tanh RNN; the forest orders nodes by height.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/layers/rnn.h"
#include "recur/models/tree_rnn.h"
#include "recur/nn/loss.h"

namespace recur {
namespace {

// Three trees: a single leaf, a chain of three, and a bushier one (post-order); nodes have at
// most two children, so every composition (binary_lstm included) takes them.
std::vector<TokenTree> sample_trees() {
  TokenTree leaf{{2}, {{}}};
  TokenTree chain{{1, 3, 0}, {{}, {0}, {1}}};
  TokenTree bush{{4, 1, 2, 5, 0, 3}, {{}, {}, {}, {1, 2}, {0, 3}, {4}}};
  return {leaf, chain, bush};
}

class TreeGradcheck : public ::testing::TestWithParam<TreeCell> {};

TEST_P(TreeGradcheck, AllParametersMatchFiniteDifferences) {
  TreeRnnConfig cfg;
  cfg.cell = GetParam();
  cfg.vocab = 6;
  cfg.embed = 3;
  cfg.hidden = 4;
  cfg.classes = 5;
  TreeRnn<double> m(cfg);
  Rng rng(5);
  init_tree_rnn(m, rng);
  for (auto& [n, t] : m.named())
    for (auto& v : t->data) v += rng.uniform(-0.5, 0.5);
  const std::vector<TokenTree> trees = sample_trees();
  const Forest f = make_forest({&trees[0], &trees[1], &trees[2]}, cfg.vocab);
  const std::vector<int64_t> targets = {1, 4, 0};
  auto loss = [&] {
    Tensor<double> logits;
    TreeCache<double> c;
    tree_forward(logits, c, m, f);
    return softmax_cross_entropy<double>(nullptr, logits.ptr(), targets.data(), 3, cfg.classes);
  };
  Tensor<double> logits;
  TreeCache<double> c;
  tree_forward(logits, c, m, f);
  Tensor<double> dlogits(logits.shape);
  softmax_cross_entropy(dlogits.ptr(), logits.ptr(), targets.data(), 3, cfg.classes);
  TreeRnn<double> g(cfg);
  tree_backward(g, c, m, f, dlogits);
  auto pn = m.named();
  auto gn = g.named();
  for (size_t i = 0; i < pn.size(); ++i)
    testing::expect_grad_matches(pn[i].first, *pn[i].second, *gn[i].second, loss);
}

INSTANTIATE_TEST_SUITE_P(Cells, TreeGradcheck,
                         ::testing::Values(TreeCell::recursive, TreeCell::tree_lstm, TreeCell::binary_lstm),
                         [](const auto& info) { return std::string(tree_cell_name(info.param)); });

TEST(Forest, OrdersNodesByHeightAndKeepsRoots) {
  const std::vector<TokenTree> trees = sample_trees();
  const Forest f = make_forest({&trees[0], &trees[1], &trees[2]}, 6);
  ASSERT_EQ(f.nodes(), 10);
  ASSERT_EQ(f.edges(), 7);
  // Heights: 5 leaves; the chain's middle and the bush's first pair; the chain's root and the
  // bush's second inner node; the bush's root.
  EXPECT_EQ(f.level_start, (std::vector<int64_t>{0, 5, 7, 9, 10}));
  for (int64_t e = 0; e < f.edges(); ++e) EXPECT_LT(f.child[size_t(e)], f.parent[size_t(e)]);
  EXPECT_EQ(f.token[size_t(f.roots[0])], 2);
  EXPECT_EQ(f.token[size_t(f.roots[1])], 0);
  EXPECT_EQ(f.token[size_t(f.roots[2])], 3);
  TokenTree bad{{1, 2}, {{1}, {}}};
  EXPECT_RECUR_ERROR(make_forest({&bad}, 6), "does not come before it");
  TokenTree oov{{7}, {{}}};
  EXPECT_RECUR_ERROR(make_forest({&oov}, 6), "token 7 is outside [0, 6)");
  // A node with three children is refused by the binary composition.
  TreeRnnConfig cfg;
  cfg.cell = TreeCell::binary_lstm;
  cfg.vocab = 6;
  cfg.classes = 2;
  TreeRnn<double> m(cfg);
  TokenTree three{{1, 2, 3, 4}, {{}, {}, {}, {0, 1, 2}}};
  Tensor<double> logits;
  TreeCache<double> c;
  EXPECT_RECUR_ERROR(tree_forward(logits, c, m, make_forest({&three}, 6)), "more than two children");
}

TEST(TreeRnn, AChainIsATanhRnn) {
  TreeRnnConfig cfg;
  cfg.cell = TreeCell::recursive;
  cfg.vocab = 4;
  cfg.embed = 3;
  cfg.hidden = 5;
  cfg.classes = 2;
  TreeRnn<double> m(cfg);
  Rng rng(8);
  init_tree_rnn(m, rng);
  for (auto& v : m.b.data) v = rng.uniform(-0.3, 0.3);
  const TokenTree chain{{1, 3, 0, 2}, {{}, {0}, {1}, {2}}};
  Tensor<double> logits;
  TreeCache<double> c;
  tree_forward(logits, c, m, make_forest({&chain}, 4));
  RnnConfig rc;
  rc.cell = CellKind::rnn_tanh;
  rc.input_size = 3;
  rc.hidden_size = 5;
  RnnParams<double> p(rc);
  p.cells[0].w_ih = m.w;
  p.cells[0].w_hh = m.u;
  p.cells[0].b_ih = m.b;
  Tensor<double> x({4, 1, 3});
  for (int64_t t = 0; t < 4; ++t)
    for (int64_t j = 0; j < 3; ++j) x[t * 3 + j] = m.embedding[chain.token[size_t(t)] * 3 + j];
  Tensor<double> y;
  RnnState<double> fin;
  RnnCache<double> cache;
  rnn_forward(y, fin, cache, p, x, {}, nullptr);
  // The chain's nodes are one per height, in order: node t is the RNN's step t.
  for (int64_t t = 0; t < 4; ++t)
    for (int64_t j = 0; j < 5; ++j) EXPECT_NEAR(c.h[t * 5 + j], y[t * 5 + j], 1e-14);
}

}  // namespace
}  // namespace recur
