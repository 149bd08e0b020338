// Gradient-flow diagnostics: on a linear RNN the state gradients are the closed-form products
// (U^T)^{T-k} g and every Jacobian is U; for every cell the gradient into h_0 equals BPTT's, and the
// Jacobian's norm equals that of a finite-difference Jacobian of one step.
#include <gtest/gtest.h>

#include <cmath>

#include "expect_error.h"
#include "recur/core/linalg.h"
#include "recur/core/rng.h"
#include "recur/layers/diagnostics.h"

namespace recur {
namespace {

double norm2(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

TEST(GradientFlow, LinearRnnMatchesClosedForm) {
  // A ReLU RNN whose pre-activations stay positive is linear: h_t = U h_{t-1} + W x_t.
  const int64_t T = 30, I = 2, H = 4;
  RnnConfig cfg;
  cfg.cell = CellKind::rnn_relu;
  cfg.input_size = I;
  cfg.hidden_size = H;
  RnnParams<double> p(cfg);
  Rng rng(3);
  auto& c = p.cells[0];
  for (auto& v : c.w_ih.data) v = rng.uniform(0.1, 1.0);
  for (auto& v : c.w_hh.data) v = rng.uniform(0.1, 1.0);
  const double rho = spectral_radius(c.w_hh);
  for (auto& v : c.w_hh.data) v *= 0.9 / rho;
  Tensor<double> x({T, 1, I});
  for (auto& v : x.data) v = rng.uniform(0.1, 1.0);
  Tensor<double> y;
  RnnState<double> fin;
  RnnCache<double> cache;
  rnn_forward(y, fin, cache, p, x, {}, nullptr);
  const Tensor<double> g({H}, {0.3, -1.0, 0.5, 2.0});
  const GradientFlow f = gradient_flow(p, cache, 0, g, {});
  ASSERT_EQ(f.grad_h.size(), size_t(T + 1));
  // dL/dh_k = (U^T)^{T-k} g.
  std::vector<double> v(g.data);
  for (int64_t k = T; k >= 0; --k) {
    EXPECT_NEAR(f.grad_h[size_t(k)], norm2(v), 1e-12 * norm2(v) + 1e-300) << "k = " << k;
    std::vector<double> next(static_cast<size_t>(H), 0.0);
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < H; ++j) next[size_t(j)] += c.w_hh[i * H + j] * v[size_t(i)];
    v = next;
  }
  // Every Jacobian is U: its norm is U's largest singular value, its radius 0.9.
  double top = 0;
  for (const auto& l : eigenvalues(gram(c.w_hh))) top = std::max(top, l.real());
  for (int64_t t = 0; t < T; ++t) {
    EXPECT_NEAR(f.jacobian_norm[size_t(t)], std::sqrt(top), 1e-10);
    EXPECT_NEAR(f.jacobian_radius[size_t(t)], 0.9, 1e-10);
  }
  // The decay the seeds derive: gamma^{T-k} with gamma = rho(U) = 0.9 asymptotically.
  EXPECT_NEAR(f.grad_h[0] / f.grad_h[1], 0.9, 0.01);
  EXPECT_TRUE(f.gates.empty());
}

struct FlowCase {
  CellKind cell;
  GruConvention gru;
  const char* name;
  bool layer_norm = false;
};

class GradientFlowCells : public ::testing::TestWithParam<FlowCase> {};

TEST_P(GradientFlowCells, AgreesWithBpttAndFiniteDifferences) {
  const FlowCase tc = GetParam();
  const int64_t T = 9, I = 3, H = 4;
  RnnConfig cfg;
  cfg.cell = tc.cell;
  cfg.gru = tc.gru;
  cfg.layer_norm = tc.layer_norm;
  cfg.input_size = I;
  cfg.hidden_size = H;
  cfg.num_layers = 2;
  RnnParams<double> p(cfg);
  Rng rng(8);
  init_rnn_uniform(p, rng);
  for (auto& [name, t] : p.named())
    for (auto& v : t->data) v *= 3.0;
  Tensor<double> x({T, 1, I});
  for (auto& v : x.data) v = rng.normal();
  const bool lstm = cfg.has_cell_state();
  Tensor<double> y;
  RnnState<double> fin;
  RnnCache<double> cache;
  rnn_forward(y, fin, cache, p, x, {}, nullptr);
  Tensor<double> g({H}), gc;
  for (auto& v : g.data) v = rng.normal();
  if (lstm) {
    gc = Tensor<double>({H});
    for (auto& v : gc.data) v = rng.normal();
  }
  const GradientFlow f = gradient_flow(p, cache, 1, g, gc);

  // BPTT with the loss on the top layer's final state only: dinit of layer 1 is dL/dh_0 there.
  RnnState<double> dfin{Tensor<double>({2, 1, H}), lstm ? Tensor<double>({2, 1, H}) : Tensor<double>()};
  std::copy(g.data.begin(), g.data.end(), dfin.h.ptr() + H);
  if (lstm) std::copy(gc.data.begin(), gc.data.end(), dfin.c.ptr() + H);
  Tensor<double> dx;
  RnnState<double> dinit;
  RnnParams<double> grads(cfg);
  rnn_backward(dx, dinit, grads, cache, p, Tensor<double>({T, 1, H}), &dfin);
  EXPECT_NEAR(f.grad_h[0], norm2(std::vector<double>(dinit.h.data.begin() + H, dinit.h.data.end())), 1e-12);
  if (lstm) {
    EXPECT_NEAR(f.grad_c[0], norm2(std::vector<double>(dinit.c.data.begin() + H, dinit.c.data.end())), 1e-12);
  }

  // Finite-difference Jacobian of step k of layer 1: perturb its starting state.
  const int64_t k = 4, S = lstm ? 2 * H : H;
  const RnnDirCache<double>& dc = cache.layers[1].dirs[0];
  RnnConfig one = cfg;
  one.num_layers = 1;
  one.input_size = H;
  RnnParams<double> top(one);
  top.cells[0] = p.cells[1];
  const Tensor<double> xk({1, 1, H}, std::vector<double>(cache.layers[1].input.data.begin() + k * H,
                                                         cache.layers[1].input.data.begin() + (k + 1) * H));
  auto step = [&](const std::vector<double>& s) {
    RnnState<double> init{Tensor<double>({1, 1, H}, std::vector<double>(s.begin(), s.begin() + H)),
                          lstm ? Tensor<double>({1, 1, H}, std::vector<double>(s.begin() + H, s.end()))
                               : Tensor<double>()};
    Tensor<double> yy;
    RnnState<double> ff;
    RnnCache<double> cc;
    rnn_forward(yy, ff, cc, top, xk, {}, &init);
    std::vector<double> out(ff.h.data);
    if (lstm) out.insert(out.end(), ff.c.data.begin(), ff.c.data.end());
    return out;
  };
  std::vector<double> s0(dc.states_h.data.begin() + k * H, dc.states_h.data.begin() + (k + 1) * H);
  if (lstm) s0.insert(s0.end(), dc.states_c.data.begin() + k * H, dc.states_c.data.begin() + (k + 1) * H);
  Tensor<double> J({S, S});
  const double eps = 1e-6;
  for (int64_t j = 0; j < S; ++j) {
    std::vector<double> a = s0, b = s0;
    a[size_t(j)] += eps;
    b[size_t(j)] -= eps;
    const std::vector<double> fa = step(a), fb = step(b);
    for (int64_t i = 0; i < S; ++i) J[i * S + j] = (fa[size_t(i)] - fb[size_t(i)]) / (2 * eps);
  }
  double topv = 0;
  for (const auto& l : eigenvalues(gram(J))) topv = std::max(topv, l.real());
  EXPECT_NEAR(f.jacobian_norm[size_t(k)], std::sqrt(topv), 1e-7);
  EXPECT_NEAR(f.jacobian_radius[size_t(k)], spectral_radius(J), 1e-6);
  EXPECT_EQ(f.gates.size(), size_t(lstm ? 3 : cfg.cell == CellKind::gru ? 2 : 0));
}

INSTANTIATE_TEST_SUITE_P(
    Cells, GradientFlowCells,
    ::testing::Values(FlowCase{CellKind::rnn_tanh, GruConvention::reset_after, "rnn_tanh"},
                      FlowCase{CellKind::lstm, GruConvention::reset_after, "lstm"},
                      FlowCase{CellKind::gru, GruConvention::reset_after, "gru_reset_after"},
                      FlowCase{CellKind::gru, GruConvention::reset_before, "gru_reset_before"},
                      FlowCase{CellKind::lstm, GruConvention::reset_after, "lstm_layer_norm", true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(GradientFlow, GateStatisticsSeeASaturatedForgetGate) {
  const int64_t T = 5, H = 3;
  RnnConfig cfg;
  cfg.cell = CellKind::lstm;
  cfg.input_size = 2;
  cfg.hidden_size = H;
  RnnParams<double> p(cfg);
  for (int64_t j = H; j < 2 * H; ++j) p.cells[0].b_ih[j] = 10.0;  // forget gate sigma(10)
  Tensor<double> x({T, 1, 2}, 0.5);
  Tensor<double> y;
  RnnState<double> fin;
  RnnCache<double> cache;
  rnn_forward(y, fin, cache, p, x, {}, nullptr);
  GradientFlowOptions o;
  o.jacobians = false;
  const GradientFlow f = gradient_flow(p, cache, 0, Tensor<double>({H}, 1.0), {}, o);
  ASSERT_EQ(f.gates.size(), 3u);
  EXPECT_EQ(f.gates[1].name, "forget");
  for (int64_t t = 0; t < T; ++t) {
    EXPECT_GT(f.gates[1].mean[size_t(t)], 0.99);
    EXPECT_EQ(f.gates[1].saturated[size_t(t)], 1.0);
    EXPECT_NEAR(f.gates[0].mean[size_t(t)], 0.5, 1e-12);  // zero weights: sigma(0)
    EXPECT_EQ(f.gates[0].saturated[size_t(t)], 0.0);
  }
  EXPECT_TRUE(f.jacobian_norm.empty());
  const std::string json = gradient_flow_json(f);
  EXPECT_NE(json.find("\"forget\": {\"mean\": ["), std::string::npos);
  EXPECT_RECUR_ERROR(gradient_flow(p, cache, 1, Tensor<double>({H}), {}), "layer 1 of a 1-layer");
  EXPECT_RECUR_ERROR(gradient_flow(p, cache, 0, Tensor<double>({H + 1}), {}), "dh_T has 4 values");
}

}  // namespace
}  // namespace recur
