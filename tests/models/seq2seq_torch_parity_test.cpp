// Seq2Seq: the loss and the gradient of every parameter equal those of an independent PyTorch
// implementation of the model in include/recur/models/seq2seq.h (nn.Embedding, nn.LSTM/nn.GRU over
// packed sources, the decoder run one step at a time, the attention written out in torch ops), on
// the same weights and pairs. Fixtures: tests/fixtures/seq2seq/*.safetensors, made by
// `/usr/bin/python3 tests/fixtures/torch_seq2seq_reference.py fixtures tests/fixtures/seq2seq`.
//
// The weights are float32 values; PyTorch computed in float64 from them, so its answers are exact to
// ~1e-15 and the differences measured here are recur's own rounding:
//   double: |ours - torch| <= 1e-6 + 1e-5 |torch| (a wrong term would show as 1e-3 or more);
//   float:  |ours - torch| <= 1e-5 + 1e-4 |torch| (float32 rounding through ~10 recurrent steps).
// Each case prints its largest difference relative to max(1, |torch|) and records it as a property.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include "recur/io/safetensors.h"
#include "recur/models/seq2seq.h"

namespace recur {
namespace {

const std::string kFixtureDir = std::string(RECUR_SOURCE_DIR) + "/tests/fixtures/seq2seq";

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// The fixture's tensors split by role (everything loaded as double: the F32 weights exactly).
struct Fixture {
  std::string path;
  Safetensors<double> st;
  std::map<std::string, Tensor<double>> weights, grads;
  std::vector<std::vector<int64_t>> sources, targets;
};

std::vector<int64_t> ids(const Tensor<double>& t) {
  std::vector<int64_t> out;
  for (double v : t.data) out.push_back(int64_t(v));
  return out;
}

Fixture load_fixture(const std::string& name) {
  Fixture f;
  f.path = kFixtureDir + "/" + name + ".safetensors";
  f.st = load_safetensors<double>(f.path);
  for (const auto& [k, t] : f.st.tensors) {
    if (starts_with(k, "grad.")) f.grads[k.substr(5)] = t;
    else if (!starts_with(k, "expected.") && !starts_with(k, "source.") &&
             !starts_with(k, "target.") && !starts_with(k, "batch."))
      f.weights[k] = t;
  }
  for (size_t b = 0; f.st.tensors.count("source." + std::to_string(b)); ++b) {
    f.sources.push_back(ids(require_tensor(f.st, "source." + std::to_string(b), f.path)));
    f.targets.push_back(ids(require_tensor(f.st, "target." + std::to_string(b), f.path)));
  }
  return f;
}

Seq2SeqBatch fixture_batch(const Fixture& f) {
  std::vector<const std::vector<int64_t>*> src, tgt;
  for (size_t b = 0; b < f.sources.size(); ++b) {
    src.push_back(&f.sources[b]);
    tgt.push_back(&f.targets[b]);
  }
  return make_seq2seq_batch(src, tgt);
}

// Compares got with torch's values; returns the largest |diff| / max(1, |torch|).
template <class T>
double compare(const std::string& what, const Tensor<T>& got, const Tensor<double>& want,
               double atol, double rtol) {
  EXPECT_EQ(got.shape, want.shape) << what;
  if (got.shape != want.shape) return 0;
  double worst = 0;
  int bad = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double d = std::abs(double(got[i]) - want[i]);
    worst = std::max(worst, d / std::max(1.0, std::abs(want[i])));
    if (!(d <= atol + rtol * std::abs(want[i])) && bad++ < 3)
      ADD_FAILURE() << what << "[" << i << "]: " << got[i] << " vs torch " << want[i];
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << got.numel() << " values differ";
  return worst;
}

// Runs the loss and backward with Seq2Seq<T>; returns the largest relative difference.
template <class T>
double run_and_compare(const Fixture& f, const Seq2SeqConfig& cfg, double atol, double rtol) {
  std::map<std::string, Tensor<T>> weights;
  for (const auto& [k, t] : f.weights) weights[k] = tensor_cast<T>(t);
  Seq2Seq<T> m(cfg);
  m.load_state_dict(weights, f.path);  // exactly recur's parameter set, of recur's shapes
  Seq2Seq<T> g(cfg);
  const Seq2SeqBatch batch = fixture_batch(f);
  int64_t count = 0;
  const T loss = seq2seq_batch<T>(m, &g, batch, {}, {}, nullptr, &count);
  int64_t scored = 0;
  for (const auto& t : f.targets) scored += int64_t(t.size()) + 1;
  EXPECT_EQ(count, scored);

  Tensor<T> got_loss({1});
  got_loss[0] = loss;
  double worst = compare("loss", got_loss, require_tensor(f.st, "expected.loss", f.path), atol, rtol);
  std::set<std::string> seen;
  for (const auto& [name, grad] : g.named()) {
    seen.insert(name);
    auto it = f.grads.find(name);
    EXPECT_TRUE(it != f.grads.end()) << "torch has no gradient for " << name;
    if (it != f.grads.end())
      worst = std::max(worst, compare("grad " + name, *grad, it->second, atol, rtol));
  }
  for (const auto& [name, _] : f.grads) EXPECT_TRUE(seen.count(name)) << "recur has no " << name;
  // The loss must not change when no gradient is asked for.
  EXPECT_EQ(seq2seq_batch<T>(m, nullptr, batch, {}), loss);
  return worst;
}

class Seq2SeqTorchParity : public ::testing::TestWithParam<std::string> {};

TEST_P(Seq2SeqTorchParity, LossAndEveryGradientMatch) {
  const Fixture f = load_fixture(GetParam());
  const Seq2SeqConfig cfg = Seq2SeqConfig::from_metadata(f.st.metadata);
  // The Python side wrote every key of to_metadata, with the same values; rnn_spec, the spec
  // string derived from those keys (for people), came later, and files without it still load.
  for (const auto& [k, v] : cfg.to_metadata()) {
    if (k.ends_with("rnn_spec")) continue;
    auto it = f.st.metadata.find(k);
    ASSERT_TRUE(it != f.st.metadata.end()) << "fixture metadata lacks " << k;
    EXPECT_EQ(it->second, v) << k;
  }
  ASSERT_GE(f.sources.size(), 3u);

  // make_seq2seq_batch builds the same padded batch as the Python side.
  const Seq2SeqBatch batch = fixture_batch(f);
  EXPECT_EQ(batch.source, ids(require_tensor(f.st, "batch.source", f.path)));
  EXPECT_EQ(batch.source_lengths, ids(require_tensor(f.st, "batch.source_lengths", f.path)));
  EXPECT_EQ(batch.inputs, ids(require_tensor(f.st, "batch.inputs", f.path)));
  EXPECT_EQ(batch.targets, ids(require_tensor(f.st, "batch.targets", f.path)));
  EXPECT_EQ(batch.source_steps, require_tensor(f.st, "batch.source", f.path).dim(0));
  EXPECT_EQ(batch.target_steps, require_tensor(f.st, "batch.inputs", f.path).dim(0));

  const double worst_double = run_and_compare<double>(f, cfg, 1e-6, 1e-5);
  const double worst_float = run_and_compare<float>(f, cfg, 1e-5, 1e-4);
  RecordProperty("max_relative_difference_double", std::to_string(worst_double));
  RecordProperty("max_relative_difference_float", std::to_string(worst_float));
  std::printf("[ parity   ] %s: largest difference double %.2e, float %.2e "
              "(relative to max(1, |torch|))\n",
              GetParam().c_str(), worst_double, worst_float);
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kFixtureDir, ec))
    if (e.path().extension() == ".safetensors") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The fixtures are committed: their absence is a failure, not a skip.
TEST(Seq2SeqTorchParityFixtures, ArePresent) {
  EXPECT_TRUE(std::filesystem::is_directory(kFixtureDir)) << kFixtureDir << " is missing";
  EXPECT_GE(fixture_names().size(), 5u) << "expected the committed fixtures in " << kFixtureDir;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Seq2SeqTorchParity, ::testing::ValuesIn(fixture_names()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Seq2SeqTorchParity);

}  // namespace
}  // namespace recur
