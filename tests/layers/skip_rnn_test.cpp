// Skip connections through time: finite-difference gradients (double) with and without the
// length-1 connections; without them and with d = 1 it is the tanh RNN; without them the sequence
// splits into d independent chains.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/layers/rnn.h"
#include "recur/layers/skip_rnn.h"

namespace recur {
namespace {

class SkipRnnGradcheck : public ::testing::TestWithParam<bool> {};

TEST_P(SkipRnnGradcheck, GradientsMatchFiniteDifferences) {
  SkipRnnConfig c{3, 4, 3, GetParam()};
  SkipRnnParams<double> p(c);
  Rng rng(6);
  init_skip_rnn(p, rng);
  for (auto& [n, t] : p.named())
    for (auto& v : t->data) v *= 2.0;
  Tensor<double> x({8, 2, 3}), gy({8, 2, 4});
  testing::fill_uniform(x, rng);
  testing::fill_uniform(gy, rng);
  auto loss = [&] {
    Tensor<double> y;
    SkipRnnCache<double> cache;
    skip_rnn_forward(y, cache, p, x);
    double l = 0;
    for (int64_t i = 0; i < y.numel(); ++i) l += y[i] * gy[i];
    return l;
  };
  Tensor<double> y, dx;
  SkipRnnCache<double> cache;
  skip_rnn_forward(y, cache, p, x);
  SkipRnnParams<double> g(c);
  skip_rnn_backward(dx, g, cache, p, gy);
  auto pn = p.named();
  auto gn = g.named();
  for (size_t i = 0; i < pn.size(); ++i) testing::expect_grad_matches(pn[i].first, *pn[i].second, *gn[i].second, loss);
  testing::expect_grad_matches("input", x, dx, loss);
}

INSTANTIATE_TEST_SUITE_P(ShortConnections, SkipRnnGradcheck, ::testing::Bool());

TEST(SkipRnn, DelayOneWithoutShortConnectionsIsTheTanhRnn) {
  SkipRnnParams<double> p(SkipRnnConfig{2, 3, 1, false});
  Rng rng(1);
  init_skip_rnn(p, rng);
  RnnConfig rc;
  rc.cell = CellKind::rnn_tanh;
  rc.input_size = 2;
  rc.hidden_size = 3;
  RnnParams<double> r(rc);
  r.cells[0].w_ih = p.w_ih;
  r.cells[0].w_hh = p.w_skip;
  r.cells[0].b_ih = p.bias;
  Tensor<double> x({6, 2, 2});
  testing::fill_uniform(x, rng);
  Tensor<double> y1, y2;
  SkipRnnCache<double> cache;
  skip_rnn_forward(y1, cache, p, x);
  RnnState<double> fin;
  RnnCache<double> rcache;
  rnn_forward(y2, fin, rcache, r, x, {}, nullptr);
  for (int64_t i = 0; i < y1.numel(); ++i) EXPECT_NEAR(y1[i], y2[i], 1e-14);
}

TEST(SkipRnn, WithoutShortConnectionsTheChainsAreIndependent) {
  // d = 2: the even steps never see the odd inputs.
  SkipRnnParams<double> p(SkipRnnConfig{1, 3, 2, false});
  Rng rng(2);
  init_skip_rnn(p, rng);
  Tensor<double> x({6, 1, 1}, std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}), y1, y2;
  SkipRnnCache<double> cache;
  skip_rnn_forward(y1, cache, p, x);
  x[1] = 9, x[3] = -9;
  skip_rnn_forward(y2, cache, p, x);
  for (int64_t t = 0; t < 6; t += 2)
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(y1[t * 3 + j], y2[t * 3 + j]);
  EXPECT_NE(y1[3 * 3], y2[3 * 3]);
  EXPECT_RECUR_ERROR(SkipRnnParams<double>(SkipRnnConfig{1, 3, 0, true}), "delay must be >= 1");
}

}  // namespace
}  // namespace recur

namespace recur {
namespace {

// The simple-RNN and layer-norm options survive the model metadata, and are absent when unset (so
// files written before them read the same).
TEST(RnnConfigMetadata, NewOptionsRoundTripAndStayOptional) {
  RnnConfig c;
  c.cell = CellKind::rnn_tanh;
  c.input_size = 3;
  c.hidden_size = 4;
  EXPECT_EQ(c.to_metadata().count("leak") + c.to_metadata().count("layer_norm"), 0u);
  c.leak = 0.125;
  c.learn_leak = true;
  RnnConfig r = RnnConfig::from_metadata(c.to_metadata());
  EXPECT_EQ(r.leak, 0.125);
  EXPECT_TRUE(r.learn_leak);
  c.leak = 1.0;
  c.learn_leak = false;
  c.residual = true;
  EXPECT_TRUE(RnnConfig::from_metadata(c.to_metadata()).residual);
  RnnConfig g;
  g.cell = CellKind::gru;
  g.input_size = 3;
  g.hidden_size = 4;
  g.layer_norm = true;
  EXPECT_TRUE(RnnConfig::from_metadata(g.to_metadata()).layer_norm);
  g.gru = GruConvention::reset_before;
  EXPECT_RECUR_ERROR(g.validate(), "layer normalisation is for");
  RnnConfig l = c;
  l.cell = CellKind::lstm;
  EXPECT_RECUR_ERROR(l.validate(), "options of the simple RNN, not lstm");
}

}  // namespace
}  // namespace recur
