// Mixed stacks (RnnConfig::above): segments of different kinds, sizes and options run in turn, the
// layers with their own time loop (clockwork, skip, deep) among them.
// Finite-difference gradient checks in double of every parameter, the input and every segment's
// initial state, with dropout between segments; the layer numbering of the names; the inference
// paths (PreparedRnn, RnnPacks) against the training forward; layer_grads_done's order.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "gradcheck.h"
#include "recur/layers/rnn.h"
#include "recur/layers/rnn_spec.h"
#include "recur/models/named_tensors.h"

namespace recur {
namespace {

using testing::expect_grad_matches;
using testing::fill_uniform;

// Random states shaped as a stack's (every segment's), or zero when `rng` is null.
RnnState<double> stack_state(const RnnConfig& c, int64_t B, Rng* rng) {
  RnnState<double> s;
  const int64_t rows = int64_t(c.num_layers) * c.directions();
  s.h = Tensor<double>({rows, B, c.hidden_size});
  if (c.has_cell_state()) s.c = Tensor<double>({rows, B, c.hidden_size});
  if (rng) {
    fill_uniform(s.h, *rng);
    if (!s.c.empty()) fill_uniform(s.c, *rng);
  }
  for (const RnnConfig& seg : c.above) s.above.push_back(stack_state(seg, B, rng));
  return s;
}

double dot_states(const RnnState<double>& a, const RnnState<double>& g) {
  double l = 0;
  for (int64_t k = 0; k < a.h.numel(); ++k) l += a.h[k] * g.h[k];
  for (int64_t k = 0; k < a.c.numel(); ++k) l += a.c[k] * g.c[k];
  for (size_t s = 0; s < a.above.size(); ++s) l += dot_states(a.above[s], g.above[s]);
  return l;
}

// Every tensor of a stack's states with a name, for the gradient check of the initial states.
void list_states(RnnState<double>& s, const std::string& name,
                 std::vector<std::pair<std::string, Tensor<double>*>>& out) {
  out.push_back({name + ".h", &s.h});
  if (!s.c.empty()) out.push_back({name + ".c", &s.c});
  for (size_t k = 0; k < s.above.size(); ++k) list_states(s.above[k], name + ".above" + std::to_string(k), out);
}

struct Case {
  std::string spec;
  std::vector<int64_t> lengths;
  bool init = true;
  bool dropout_training = false;
};

void check_stack(const Case& cs) {
  const RnnConfig cfg = rnn_config_from_spec(parse_rnn_spec(cs.spec), 3);
  ASSERT_TRUE(cfg.mixed() || cfg.own_loop()) << cs.spec;
  const int64_t T = 5, B = 3;
  Rng rng(42);
  RnnParams<double> params(cfg);
  init_rnn_uniform(params, rng);
  for (auto& [n, t] : params.named())
    for (auto& v : t->data) v *= 2.5;  // away from the nonlinearities' linear region
  Tensor<double> x({T, B, 3}), gy({T, B, cfg.output_size()});
  fill_uniform(x, rng);
  fill_uniform(gy, rng);
  RnnState<double> init = stack_state(cfg, B, &rng), gfin = stack_state(cfg, B, &rng);
  auto forward = [&](Tensor<double>& y, RnnState<double>& fin, RnnCache<double>& cache) {
    Rng drop(7);  // the same dropout masks every call
    rnn_forward(y, fin, cache, params, x, cs.lengths, cs.init ? &init : nullptr,
                RnnRunOptions{cs.dropout_training, &drop});
  };
  auto loss = [&] {
    Tensor<double> y;
    RnnState<double> fin;
    RnnCache<double> cache;
    forward(y, fin, cache);
    double l = dot_states(fin, gfin);
    for (int64_t k = 0; k < y.numel(); ++k) l += y[k] * gy[k];
    return l;
  };
  Tensor<double> y, dx;
  RnnState<double> fin, dinit;
  RnnCache<double> cache;
  forward(y, fin, cache);
  RnnParams<double> grads(cfg);
  rnn_backward(dx, dinit, grads, cache, params, gy, &gfin);
  auto pn = params.named();
  auto gn = grads.named();
  ASSERT_EQ(pn.size(), gn.size());
  for (size_t i = 0; i < pn.size(); ++i) expect_grad_matches(cs.spec + " " + pn[i].first, *pn[i].second, *gn[i].second, loss);
  expect_grad_matches(cs.spec + " input", x, dx, loss);
  if (!cs.init) return;
  std::vector<std::pair<std::string, Tensor<double>*>> si, sg;
  list_states(init, "init", si);
  list_states(dinit, "init", sg);
  ASSERT_EQ(si.size(), sg.size());
  for (size_t i = 0; i < si.size(); ++i) expect_grad_matches(cs.spec + " " + si[i].first, *si[i].second, *sg[i].second, loss);
}

TEST(RnnStackGradcheck, LstmUnderAResetBeforeGru) { check_stack({"lstm:4,peephole;gru:3,reset_before", {}}); }

TEST(RnnStackGradcheck, BidirectionalSegmentsWithDropoutBetweenThem) {
  check_stack({"rnn_tanh:4,dropout=0.4,bi;lstm:3,dropout=0.3,bi=sum;gru:5", {5, 2, 0}, true, true});
}

TEST(RnnStackGradcheck, LayerNormResidualAndCoupledSegments) {
  check_stack({"gru:4,ln,bi=sum;gru:4,ln,bi=sum;rnn_relu:3,residual=0.5,learn_leak;lstm:2,coupled",
               {4, 5, 1}, false});
}

// The layers with their own time loop, alone (over ragged lengths, from initial states) and as
// segments of a mixed stack.
TEST(RnnStackGradcheck, ClockworkOverRaggedLengths) { check_stack({"clockwork:6,periods=1/2/4", {5, 2, 0}}); }
TEST(RnnStackGradcheck, SkipWithAndWithoutShortLinks) {
  check_stack({"skip:4,delay=2", {5, 3, 1}});
  check_stack({"skip:4,delay=3,no_short", {4, 5, 0}});
}
TEST(RnnStackGradcheck, DeepTransition) { check_stack({"deep:4,depth=3", {5, 1, 3}}); }
TEST(RnnStackGradcheck, OwnLoopSegmentsBetweenEngineSegments) {
  check_stack({"lstm:4,bi=sum;clockwork:4,periods=1/2,dropout=0.3;skip:3,dropout=0.2;deep:3;gru:2",
               {5, 2, 4}, true, true});
}

TEST(RnnStack, NamesCountLayersAcrossSegments) {
  const RnnConfig cfg = rnn_config_from_spec(parse_rnn_spec("lstm:4,bi;lstm:4,bi;gru:3;rnn_tanh:2"), 5);
  RnnParams<float> p(cfg);
  std::vector<std::string> names;
  for (const auto& [n, t] : p.named()) names.push_back(n);
  ASSERT_EQ(names.size(), 4u * 4 + 4 + 4);
  EXPECT_EQ(names[0], "weight_ih_l0");
  EXPECT_EQ(names[4], "weight_ih_l0_reverse");
  EXPECT_EQ(names[8], "weight_ih_l1");
  EXPECT_EQ(names[16], "weight_ih_l2");
  EXPECT_EQ(names[20], "weight_ih_l3");
  EXPECT_EQ(p.above[0].cells[0].w_ih.shape, Shape({9, 8}));  // GRU 3 gates x 3, reading 2 x 4
  EXPECT_DOUBLE_EQ(parameter_count(cfg), [&] {
    double n = 0;
    for (const auto& [name, t] : p.named()) n += double(t->numel());
    return n;
  }());
}

TEST(RnnStack, InferencePathsEqualTheTrainingForward) {
  const RnnConfig cfg = rnn_config_from_spec(parse_rnn_spec("gru:6,bi;lstm:5;rnn_tanh:4,bi=sum"), 3);
  RnnParams<float> p(cfg);
  Rng rng(3);
  init_rnn_uniform(p, rng);
  Tensor<float> x({7, 4, 3});
  for (auto& v : x.data) v = float(rng.uniform(-1, 1));
  const std::vector<int64_t> lengths = {7, 3, 0, 5};
  Tensor<float> y, y2, y3;
  RnnState<float> fin, fin2, fin3;
  RnnCache<float> cache, cache2;
  rnn_forward(y, fin, cache, p, x, lengths, nullptr);
  RnnPacks packs;
  rnn_forward(y2, fin2, cache2, p, x, lengths, nullptr, RnnRunOptions{}.with_inference(true).with_packs(&packs));
  PreparedRnn<float> prepared(p);
  prepared.forward(y3, fin3, x, lengths);
  ASSERT_EQ(y.shape, Shape({7, 4, 4}));
  for (const Tensor<float>* other : {&y2, &y3}) {
    ASSERT_EQ(other->shape, y.shape);
    for (int64_t k = 0; k < y.numel(); ++k) EXPECT_NEAR((*other)[k], y[k], 1e-5f) << k;
  }
  ASSERT_EQ(fin3.above.size(), 2u);
  for (int64_t k = 0; k < fin.above[1].h.numel(); ++k) EXPECT_NEAR(fin3.above[1].h[k], fin.above[1].h[k], 1e-5f);
  // The summary of the top layer's final states comes from the top segment.
  std::vector<float> summary(size_t(4 * cfg.output_size()));
  top_final_state(summary.data(), fin, cfg, 4);
  EXPECT_FLOAT_EQ(summary[0], fin.above[1].h[0] + fin.above[1].h[4 * 4]);
}

TEST(RnnStack, LayerGradsDoneReportsStackLayersTopFirst) {
  const RnnConfig cfg = rnn_config_from_spec(parse_rnn_spec("lstm:3;gru:3;gru:2;rnn_tanh:2"), 2);
  RnnParams<float> p(cfg), g(cfg);
  Rng rng(1);
  init_rnn_uniform(p, rng);
  Tensor<float> x({3, 2, 2}), y, dx;
  for (auto& v : x.data) v = float(rng.uniform(-1, 1));
  RnnState<float> fin, dinit;
  RnnCache<float> cache;
  std::vector<int> order;
  RnnRunOptions opt(true);
  opt.layer_grads_done = [&](int l) { order.push_back(l); };
  rnn_forward(y, fin, cache, p, x, {}, nullptr, opt);
  Tensor<float> dy(y.shape);
  dy.fill(1.0f);
  rnn_backward(dx, dinit, g, cache, p, dy, nullptr);
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1, 0}));
  EXPECT_EQ(dinit.above.size(), 3u);
}

TEST(RnnStack, RefusesAnInitialStateWithoutItsSegments) {
  const RnnConfig cfg = rnn_config_from_spec(parse_rnn_spec("lstm:3;gru:3"), 2);
  RnnParams<float> p(cfg);
  Tensor<float> x({2, 1, 2}), y;
  RnnState<float> init{Tensor<float>({1, 1, 3}), Tensor<float>({1, 1, 3})}, fin;
  RnnCache<float> cache;
  EXPECT_RECUR_ERROR(rnn_forward(y, fin, cache, p, x, {}, &init),
                     "the initial state holds 0 upper segments' states; the stack has 1");
}

}  // namespace
}  // namespace recur
