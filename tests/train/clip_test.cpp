// Gradient clipping: global norm against torch.nn.utils.clip_grad_norm_ (fixture), no-op below the
// threshold, non-finite norms, clipping by value.
#include "recur/train/clip.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "optim_fixture.h"

namespace recur {
namespace {

using testing::FixtureParams;

template <class T>
void check_clip_parity() {
  for (const nlohmann::json& c : testing::optim_fixture()["clip_grad_norm"]) {
    const double max_norm = c["max_norm"].get<double>();
    const nlohmann::json& expected = c["expected"][testing::fixture_dtype<T>()];
    FixtureParams<T> p;
    p.set_grads(0, c["scale"].get<double>());
    const T norm = clip_grad_norm(p.params(), T(max_norm));
    const std::string label = "max_norm " + std::to_string(max_norm);
    EXPECT_NEAR(double(norm), expected["total_norm"].get<double>(),
                testing::FixtureTolerance<T>::rtol * expected["total_norm"].get<double>())
        << label;
    for (const std::string& pn : testing::fixture_param_names())
      testing::expect_matches_fixture(p.grads[pn], expected["clipped"][pn], label + " " + pn);
  }
}

TEST(ClipGradNorm, MatchesTorchFloat32) { check_clip_parity<float>(); }
TEST(ClipGradNorm, MatchesTorchFloat64) { check_clip_parity<double>(); }

TEST(ClipGradNorm, GlobalNormAcrossParamsAndNoOpBelowThreshold) {
  Tensor<double> a({2}), b({1}), ga({2}, std::vector<double>{3, 0}),
      gb({1}, std::vector<double>{4});
  std::vector<Param<double>> params = {{"a", &a, &ga}, {"b", &b, &gb}};
  EXPECT_DOUBLE_EQ(clip_grad_norm(params, 10.0), 5.0);  // sqrt(3^2 + 4^2), below 10: untouched
  EXPECT_EQ(ga[0], 3.0);
  EXPECT_EQ(gb[0], 4.0);
  EXPECT_DOUBLE_EQ(clip_grad_norm(params, 1.0), 5.0);  // returns the pre-clip norm
  EXPECT_NEAR(ga[0], 3.0 / (5.0 + 1e-6), 1e-15);
  EXPECT_NEAR(gb[0], 4.0 / (5.0 + 1e-6), 1e-15);
  EXPECT_THROW(clip_grad_norm(params, 0.0), Error);
}

TEST(ClipGradNorm, NonFiniteNormLeavesGradients) {
  Tensor<float> a({2}), ga({2}, std::vector<float>{1.f, std::numeric_limits<float>::infinity()});
  std::vector<Param<float>> params = {{"a", &a, &ga}};
  EXPECT_TRUE(std::isinf(clip_grad_norm(params, 1.f)));
  EXPECT_EQ(ga[0], 1.f);
}

TEST(ClipGradValue, ClampsEachElement) {
  Tensor<float> a({4}), ga({4}, std::vector<float>{-3.f, -0.5f, 0.25f, 2.f});
  std::vector<Param<float>> params = {{"a", &a, &ga}};
  clip_grad_value(params, 1.f);
  EXPECT_EQ(ga.data, (std::vector<float>{-1.f, -0.5f, 0.25f, 1.f}));
  EXPECT_THROW(clip_grad_value(params, -1.f), Error);
}

}  // namespace
}  // namespace recur
