// Outputs, final states and every gradient equal PyTorch's (nn.RNN/LSTM/GRU, float32) on the same
// weights. Fixtures: tests/fixtures/rnn/*.safetensors, made by tests/fixtures/torch_rnn_reference.py.
//
// Tolerance: |ours - torch| <= 1e-5 + 1e-5 * |torch|. Both sides compute in float32 with different
// summation orders (oneDNN vs PyTorch's BLAS); the rounding difference of a length-K dot product is
// about sqrt(K) * 2^-24 * |terms|, i.e. ~1e-6 here, growing through T recurrent steps. The test also
// reports the largest relative difference it saw.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "recur/io/safetensors.h"
#include "recur/layers/rnn.h"

namespace recur {
namespace {

constexpr double kAtol = 1e-5, kRtol = 1e-5;

void expect_close(const std::string& what, const Tensor<float>& got, const Tensor<float>& want,
                  double& worst) {
  ASSERT_EQ(got.shape, want.shape) << what;
  int bad = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double d = std::abs(double(got[i]) - double(want[i]));
    worst = std::max(worst, d / std::max(1.0, std::abs(double(want[i]))));
    if (d > kAtol + kRtol * std::abs(double(want[i])) && bad++ < 3)
      ADD_FAILURE() << what << "[" << i << "]: " << got[i] << " vs torch " << want[i];
  }
  EXPECT_EQ(bad, 0) << what;
}

class TorchParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchParity, ForwardAndGradientsMatch) {
  const std::string path = std::string(RECUR_SOURCE_DIR) + "/tests/fixtures/rnn/" + GetParam() +
                           ".safetensors";
  const Safetensors<float> st = load_safetensors<float>(path);
  const CellKind cell = parse_cell(st.metadata.at("cell"));
  std::map<std::string, Tensor<float>> weights;
  for (const auto& [k, t] : st.tensors)
    if (k.rfind("weight_", 0) == 0 || k.rfind("bias_", 0) == 0) weights[k] = t;
  const RnnParams<float> params = params_from_named(cell, weights, path);
  const bool lstm = params.config.has_cell_state();

  const Tensor<float>& x = require_tensor(st, "input", path);
  std::vector<int64_t> lengths;
  if (st.tensors.count("lengths"))
    for (float v : st.tensors.at("lengths").data) lengths.push_back(int64_t(v));
  const bool has_init = st.tensors.count("h0") > 0;
  RnnState<float> init;
  if (has_init) {
    init.h = st.tensors.at("h0");
    if (lstm) init.c = st.tensors.at("c0");
  }

  Tensor<float> y;
  RnnState<float> fin;
  RnnCache<float> cache;
  rnn_forward(y, fin, cache, params, x, lengths, has_init ? &init : nullptr);
  double worst = 0;
  expect_close("output", y, require_tensor(st, "expected.output", path), worst);
  expect_close("h_n", fin.h, require_tensor(st, "expected.hn", path), worst);
  if (lstm) expect_close("c_n", fin.c, require_tensor(st, "expected.cn", path), worst);

  RnnParams<float> grads(params.config);
  RnnState<float> dfin{require_tensor(st, "grad_hn", path),
                       lstm ? require_tensor(st, "grad_cn", path) : Tensor<float>()};
  Tensor<float> dx;
  RnnState<float> dinit;
  rnn_backward(dx, dinit, grads, cache, params, require_tensor(st, "grad_output", path), &dfin);
  for (const auto& [name, g] : grads.named())
    expect_close("grad " + name, *g, require_tensor(st, "grad." + name, path), worst);
  expect_close("grad input", dx, require_tensor(st, "grad.input", path), worst);
  if (has_init) {
    expect_close("grad h0", dinit.h, require_tensor(st, "grad.h0", path), worst);
    if (lstm) expect_close("grad c0", dinit.c, require_tensor(st, "grad.c0", path), worst);
  }
  RecordProperty("max_relative_difference", std::to_string(worst));
  std::printf("[ parity   ] %s: largest difference %.2e (relative to max(1, |torch|))\n",
              GetParam().c_str(), worst);
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(std::string(RECUR_SOURCE_DIR) +
                                                           "/tests/fixtures/rnn"))
    if (e.path().extension() == ".safetensors") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TorchParity, ::testing::ValuesIn(fixture_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace recur
