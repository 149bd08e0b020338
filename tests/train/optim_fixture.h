// Loads tests/fixtures/optim.json (torch.optim and clip_grad_norm_ outputs, written by
// tests/fixtures/make_optim_fixtures.py) and builds the parameters it describes.
//
// Tolerances. float64 cases: torch and we evaluate the same expressions in the same order, so only
// libm and fused-multiply-add differences remain: 1e-12 relative. float32 cases: each operation is
// correctly rounded (2^-24 relative), but torch's vectorised kernels and our loops may fuse or
// order operations differently, which after 5 steps leaves a few ulps: we allow 1e-6 relative, plus
// 1e-7 absolute for elements that pass near zero (where relative error is meaningless).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "recur/core/tensor.h"
#include "recur/train/param.h"

namespace recur::testing {

inline const nlohmann::json& optim_fixture() {
  static const nlohmann::json j = [] {
    const std::string path = std::string(RECUR_SOURCE_DIR) + "/tests/fixtures/optim.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return nlohmann::json::parse(in);
  }();
  return j;
}

inline const std::vector<std::string>& fixture_param_names() {
  static const std::vector<std::string> names = {"w", "b"};
  return names;
}

// The fixture's parameters (initial values) with zero gradients; params() views them.
template <class T>
struct FixtureParams {
  std::map<std::string, Tensor<T>> values, grads;

  FixtureParams() {
    const nlohmann::json& j = optim_fixture()["params"];
    for (const std::string& name : fixture_param_names()) {
      const Shape shape = j[name]["shape"].get<Shape>();
      std::vector<T> v;
      for (double x : j[name]["values"]) v.push_back(T(x));
      values[name] = Tensor<T>(shape, v);
      grads[name] = Tensor<T>(shape);
    }
  }
  // Sets every gradient to the fixture's step `s` gradient times `scale`.
  void set_grads(size_t s, double scale = 1.0) {
    const nlohmann::json& j = optim_fixture()["grads"][s];
    for (const std::string& name : fixture_param_names()) {
      size_t i = 0;
      for (double x : j[name]) grads[name][int64_t(i++)] = T(scale * x);
    }
  }
  std::vector<Param<T>> params() {
    std::vector<Param<T>> out;
    for (const std::string& name : fixture_param_names())
      out.push_back({name, &values[name], &grads[name]});
    return out;
  }
};

template <class T>
struct FixtureTolerance {
  static constexpr double rtol = 1e-6, atol = 1e-7;
};
template <>
struct FixtureTolerance<double> {
  static constexpr double rtol = 1e-12, atol = 1e-15;
};

template <class T>
const char* fixture_dtype() {
  return sizeof(T) == 4 ? "float32" : "float64";
}

template <class T>
void expect_matches_fixture(const Tensor<T>& actual, const nlohmann::json& expected,
                            const std::string& what) {
  ASSERT_EQ(size_t(actual.numel()), expected.size()) << what;
  int failures = 0;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double e = expected[size_t(i)].get<double>(), a = double(actual[i]);
    const double bound = FixtureTolerance<T>::atol + FixtureTolerance<T>::rtol * std::abs(e);
    if (!(std::abs(a - e) <= bound) && failures++ < 5)
      ADD_FAILURE() << what << "[" << i << "]: got " << a << ", torch " << e << " (|diff| "
                    << std::abs(a - e) << " > " << bound << ")";
  }
}

}  // namespace recur::testing
