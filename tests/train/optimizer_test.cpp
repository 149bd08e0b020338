// Optimizers: parity with torch.optim (fixture), L1 sign behaviour, state export/import resuming
// bit-identically, import checks and config validation.
#include "recur/train/optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "optim_fixture.h"

namespace recur {
namespace {

using testing::FixtureParams;
using testing::optim_fixture;

OptimizerConfig config_from_json(const nlohmann::json& j) {
  OptimizerConfig c;
  c.kind = parse_optimizer_kind(j.at("kind").get<std::string>());
  c.lr = j.at("lr").get<double>();
  c.momentum = j.value("momentum", 0.0);
  c.dampening = j.value("dampening", 0.0);
  c.nesterov = j.value("nesterov", false);
  c.beta1 = j.value("beta1", 0.9);
  c.beta2 = j.value("beta2", 0.999);
  c.eps = j.value("eps", 1e-8);
  c.weight_decay = j.value("weight_decay", 0.0);
  return c;
}

template <class T>
void check_torch_parity() {
  const nlohmann::json& fx = optim_fixture();
  ASSERT_GE(fx["cases"].size(), 8u);
  for (const nlohmann::json& c : fx["cases"]) {
    const std::string name = c["name"].get<std::string>();
    FixtureParams<T> p;
    Optimizer<T> opt(config_from_json(c["config"]));
    const nlohmann::json& expected = c["expected"][testing::fixture_dtype<T>()];
    for (size_t s = 0; s < fx["steps"].get<size_t>(); ++s) {
      p.set_grads(s);
      opt.step(p.params());
      for (const std::string& pn : testing::fixture_param_names())
        testing::expect_matches_fixture(p.values[pn], expected[s][pn],
                                        name + " step " + std::to_string(s + 1) + " " + pn);
    }
    EXPECT_EQ(opt.steps(), 5);
  }
}

TEST(Optimizer, MatchesTorchFloat32) { check_torch_parity<float>(); }
TEST(Optimizer, MatchesTorchFloat64) { check_torch_parity<double>(); }

TEST(Optimizer, L1AddsSignOfWeightToGradient) {
  // Zero gradients: only the L1 term l1 * sign(w) moves the weights, toward zero; w = 0 stays.
  Tensor<double> w({3}, std::vector<double>{1.0, -2.0, 0.0}), g({3});
  std::vector<Param<double>> params = {{"w", &w, &g}};
  OptimizerConfig c;
  c.kind = OptimizerKind::kSgd;
  c.lr = 0.1;
  c.l1 = 0.5;
  Optimizer<double> sgd(c);
  sgd.step(params);
  EXPECT_DOUBLE_EQ(w[0], 1.0 - 0.05);
  EXPECT_DOUBLE_EQ(w[1], -2.0 + 0.05);
  EXPECT_EQ(w[2], 0.0);
  // With a gradient, the L1 term adds to it: g = 0.2, sign(w) = 1 -> step of lr * 0.7.
  g[0] = 0.2;
  sgd.step(params);
  EXPECT_DOUBLE_EQ(w[0], 0.95 - 0.1 * 0.7);

  for (OptimizerKind kind : {OptimizerKind::kAdam, OptimizerKind::kAdamW}) {
    Tensor<double> w2({3}, std::vector<double>{1.0, -2.0, 0.0}), g2({3});
    std::vector<Param<double>> p2 = {{"w", &w2, &g2}};
    c = OptimizerConfig{};
    c.kind = kind;
    c.lr = 0.01;
    c.l1 = 0.5;
    Optimizer<double> adam(c);
    adam.step(p2);
    // Adam's first step moves every element with a nonzero gradient by about lr.
    EXPECT_NEAR(w2[0], 1.0 - 0.01, 1e-9) << optimizer_kind_name(kind);
    EXPECT_NEAR(w2[1], -2.0 + 0.01, 1e-9) << optimizer_kind_name(kind);
    EXPECT_EQ(w2[2], 0.0) << optimizer_kind_name(kind);
  }
}

template <class T>
void check_resume_is_bit_identical(const OptimizerConfig& c, const std::vector<std::string>& keys) {
  const std::string label = optimizer_kind_name(c.kind);
  FixtureParams<T> straight;
  Optimizer<T> a(c);
  for (size_t s = 0; s < 5; ++s) {
    straight.set_grads(s);
    a.step(straight.params());
  }
  FixtureParams<T> first;
  Optimizer<T> b(c);
  for (size_t s = 0; s < 3; ++s) {
    first.set_grads(s);
    b.step(first.params());
  }
  const typename Optimizer<T>::State state = b.export_state();
  std::vector<std::string> names;
  for (const auto& [k, v] : state) names.push_back(k);
  EXPECT_EQ(names, keys) << label;
  EXPECT_EQ(state.at("step")[0], T(3)) << label;

  FixtureParams<T> resumed;  // a fresh process: parameters as saved, new optimizer, imported state
  resumed.values = first.values;
  Optimizer<T> r(c);
  r.import_state(state);
  EXPECT_EQ(r.steps(), 3);
  for (size_t s = 3; s < 5; ++s) {
    resumed.set_grads(s);
    r.step(resumed.params());
  }
  for (const std::string& pn : testing::fixture_param_names()) {
    EXPECT_EQ(resumed.values[pn].data, straight.values[pn].data) << label << " " << pn;
  }
  EXPECT_EQ(r.export_state().size(), a.export_state().size());
  for (const auto& [k, v] : a.export_state()) EXPECT_EQ(r.export_state().at(k).data, v.data) << k;
}

TEST(Optimizer, ExportImportResumesBitIdentically) {
  OptimizerConfig sgd;
  sgd.kind = OptimizerKind::kSgd;
  sgd.lr = 0.05;
  sgd.momentum = 0.9;
  sgd.nesterov = true;
  sgd.weight_decay = 0.01;
  sgd.l1 = 0.001;
  const std::vector<std::string> sgd_keys = {"b.momentum_buffer", "step", "w.momentum_buffer"};
  check_resume_is_bit_identical<float>(sgd, sgd_keys);
  check_resume_is_bit_identical<double>(sgd, sgd_keys);
  const std::vector<std::string> adam_keys = {"b.exp_avg", "b.exp_avg_sq", "step", "w.exp_avg",
                                              "w.exp_avg_sq"};
  for (OptimizerKind kind : {OptimizerKind::kAdam, OptimizerKind::kAdamW}) {
    OptimizerConfig c;
    c.kind = kind;
    c.lr = 0.01;
    c.weight_decay = 0.05;
    c.l1 = 0.001;
    check_resume_is_bit_identical<float>(c, adam_keys);
    check_resume_is_bit_identical<double>(c, adam_keys);
  }
}

TEST(Optimizer, ImportRejectsMalformedState) {
  OptimizerConfig c;
  c.kind = OptimizerKind::kAdam;
  Optimizer<float> opt(c);
  Optimizer<float>::State good = {{"step", Tensor<float>({1}, {2.f})},
                                  {"w.exp_avg", Tensor<float>({2, 3})},
                                  {"w.exp_avg_sq", Tensor<float>({2, 3})}};
  EXPECT_NO_THROW(opt.import_state(good));

  Optimizer<float>::State s = good;
  s.erase("step");
  EXPECT_THROW(opt.import_state(s), Error);
  s = good;
  s["step"] = Tensor<float>({1}, {1.5f});
  EXPECT_THROW(opt.import_state(s), Error);
  s = good;
  s["w.momentum_buffer"] = Tensor<float>({2, 3});  // an SGD slot in Adam state
  EXPECT_THROW(opt.import_state(s), Error);
  s = good;
  s.erase("w.exp_avg_sq");  // half a pair
  EXPECT_THROW(opt.import_state(s), Error);

  // Shapes and names are checked against the parameters on the next step.
  FixtureParams<float> p;
  p.set_grads(0);
  s = good;
  s["b.exp_avg"] = Tensor<float>({4});
  s["b.exp_avg_sq"] = Tensor<float>({4});
  opt.import_state(s);
  EXPECT_THROW(opt.step(p.params()), Error);
  s = good;
  s["h.exp_avg"] = Tensor<float>({3});
  s["h.exp_avg_sq"] = Tensor<float>({3});
  opt.import_state(s);
  try {
    opt.step(p.params());
    FAIL() << "expected recur::Error for a slot naming no parameter";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("h.exp_avg"), std::string::npos) << e.what();
  }
}

TEST(OptimizerConfig, ValidationNamesTheBadField) {
  auto expect_error = [](OptimizerConfig c, const std::string& field) {
    try {
      c.validate();
      FAIL() << "expected recur::Error mentioning " << field;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
    EXPECT_THROW(Optimizer<float>{c}, Error) << field;
  };
  const OptimizerConfig sgd;  // defaults are valid
  EXPECT_NO_THROW(sgd.validate());
  OptimizerConfig adam;
  adam.kind = OptimizerKind::kAdam;
  EXPECT_NO_THROW(adam.validate());

  OptimizerConfig c = sgd;
  c.lr = -0.1;
  expect_error(c, "lr");
  c.lr = std::nan("");
  expect_error(c, "lr");
  c = sgd;
  c.momentum = -0.5;
  expect_error(c, "momentum");
  c.momentum = 1.0;
  expect_error(c, "momentum");
  c = sgd;
  c.nesterov = true;  // without momentum
  expect_error(c, "nesterov");
  c.momentum = 0.9;
  c.dampening = 0.1;
  expect_error(c, "nesterov");
  c = sgd;
  c.dampening = 1.5;
  expect_error(c, "dampening");
  c = sgd;
  c.weight_decay = -1e-4;
  expect_error(c, "weight_decay");
  c = sgd;
  c.l1 = -1e-4;
  expect_error(c, "l1");
  c = adam;
  c.beta1 = 1.0;
  expect_error(c, "beta1");
  c = adam;
  c.beta2 = -0.1;
  expect_error(c, "beta2");
  c = adam;
  c.eps = -1e-8;
  expect_error(c, "eps");
  c = adam;
  c.momentum = 0.9;  // an SGD option on Adam
  expect_error(c, "momentum");

  Optimizer<double> opt(sgd);
  EXPECT_THROW(opt.set_lr(-1), Error);
  EXPECT_EQ(opt.config().lr, sgd.lr);
  opt.set_lr(0.5);
  EXPECT_EQ(opt.config().lr, 0.5);

  EXPECT_EQ(parse_optimizer_kind("adamw"), OptimizerKind::kAdamW);
  EXPECT_THROW(parse_optimizer_kind("rmsprop"), Error);
}

}  // namespace
}  // namespace recur
