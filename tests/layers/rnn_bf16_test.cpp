// bf16 mixed precision in the recurrent layer (RnnRunOptions::precision): every cell and option,
// stacked and bidirectional with ragged lengths, over a sequence long enough to pack the step
// products and over one too short to. The stated tolerance: bf16 keeps 8 significant bits, so the
// outputs stay within 0.03 of the fp32 layer's and the gradients within 5% of their norm; and they
// must differ from fp32 at all (else nothing was rounded). The streaming API in bf16 gives what
// the whole-sequence bf16 forward gives.
#include <gtest/gtest.h>

#include <cmath>

#include "expect_error.h"
#include "recur/layers/rnn.h"
#include "recur/layers/rnn_stream.h"

namespace recur {
namespace {

struct Case {
  const char* name;
  CellKind cell;
  void (*tweak)(RnnConfig&);
};

class Bf16Cases : public ::testing::TestWithParam<Case> {};

RnnConfig config_of(const Case& c, bool bidirectional) {
  RnnConfig cfg;
  cfg.cell = c.cell;
  cfg.input_size = 12;
  cfg.hidden_size = 16;
  cfg.num_layers = 2;
  cfg.bidirectional = bidirectional;
  if (c.tweak) c.tweak(cfg);
  return cfg;
}

RnnParams<float> random_params(const RnnConfig& cfg, Rng& rng) {
  RnnParams<float> params(cfg);
  init_rnn_uniform(params, rng);
  for (auto& [name, t] : params.named())
    if (name.rfind("ln", 0) == 0 || name.find("leak") != std::string::npos ||
        name.find("peep") != std::string::npos)
      for (auto& v : t->data) v = float(rng.uniform(-0.5, 1));
  return params;
}

struct Outcome {
  Tensor<float> y, dx;
  RnnState<float> fin, dinit;
  RnnParams<float> grads;
};

Outcome run_layer(const RnnParams<float>& params, const Tensor<float>& x, const Tensor<float>& dy,
        const std::vector<int64_t>& lengths, Precision precision) {
  Outcome r{{}, {}, {}, {}, RnnParams<float>(params.config)};
  RnnCache<float> cache;
  rnn_forward(r.y, r.fin, cache, params, x, lengths, nullptr, RnnRunOptions{false, nullptr, precision});
  rnn_backward(r.dx, r.dinit, r.grads, cache, params, dy, nullptr);
  return r;
}

double max_diff(const Tensor<float>& a, const Tensor<float>& b) {
  double m = 0;
  for (int64_t k = 0; k < a.numel(); ++k) m = std::max(m, double(std::abs(a[k] - b[k])));
  return m;
}

// ||a - b|| / ||b||
double relative_error(const Tensor<float>& a, const Tensor<float>& b) {
  double num = 0, den = 0;
  for (int64_t k = 0; k < a.numel(); ++k) {
    num += double(a[k] - b[k]) * double(a[k] - b[k]);
    den += double(b[k]) * double(b[k]);
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

TEST_P(Bf16Cases, CloseToFp32InOutputsAndGradients) {
  for (const int64_t Ts : {int64_t(9), int64_t(2)}) {  // packed step products, and in place
    const RnnConfig cfg = config_of(GetParam(), true);
    Rng rng(11);
    const RnnParams<float> params = random_params(cfg, rng);
    const int64_t B = 5;
    Tensor<float> x({Ts, B, cfg.input_size}), dy({Ts, B, 2 * cfg.hidden_size});
    for (auto& v : x.data) v = float(rng.uniform(-1, 1));
    for (auto& v : dy.data) v = float(rng.uniform(-1, 1));
    const std::vector<int64_t> lengths = {Ts, Ts - 1, 1, Ts, 0};
    const Outcome f = run_layer(params, x, dy, lengths, Precision::fp32);
    const Outcome h = run_layer(params, x, dy, lengths, Precision::bf16);
    SCOPED_TRACE("T = " + std::to_string(Ts));
    const double dy_max = max_diff(h.y, f.y);
    EXPECT_LT(dy_max, 0.03) << "outputs";
    EXPECT_GT(dy_max, 1e-6) << "the bf16 outputs equal the fp32 ones: nothing was rounded";
    EXPECT_LT(max_diff(h.fin.h, f.fin.h), 0.03) << "h_n";
    if (cfg.has_cell_state()) {
      EXPECT_LT(max_diff(h.fin.c, f.fin.c), 0.03) << "c_n";
    }
    EXPECT_LT(relative_error(h.dx, f.dx), 0.05) << "dx";
    EXPECT_LT(relative_error(h.dinit.h, f.dinit.h), 0.05) << "dh0";
    const auto gh = h.grads.named();
    const auto gf = f.grads.named();
    for (size_t k = 0; k < gh.size(); ++k)
      EXPECT_LT(relative_error(*gh[k].second, *gf[k].second), 0.05) << gh[k].first;
    // Padding stays exact zeros in every precision.
    for (int64_t t = 0; t < Ts; ++t)
      for (int64_t j = 0; j < 2 * cfg.hidden_size; ++j)
        ASSERT_EQ(h.y[(t * B + 4) * 2 * cfg.hidden_size + j], 0.0f) << "padding output at t=" << t;
  }
}

TEST_P(Bf16Cases, StreamEqualsWholeSequenceBf16) {
  const RnnConfig cfg = config_of(GetParam(), false);
  Rng rng(4);
  const RnnParams<float> params = random_params(cfg, rng);
  const int64_t Ts = 7, B = 3, H = cfg.hidden_size, I = cfg.input_size;
  Tensor<float> x({Ts, B, I});
  for (auto& v : x.data) v = float(rng.uniform(-1, 1));
  Tensor<float> y;
  RnnState<float> fin;
  RnnCache<float> cache;
  rnn_forward(y, fin, cache, params, x, {}, nullptr, RnnRunOptions{false, nullptr, Precision::bf16});
  RnnStream<float> stream(params, B, Precision::bf16);
  std::vector<float> out(size_t(B * H));
  for (int64_t t = 0; t < Ts; ++t) {
    stream.step(x.ptr() + t * B * I, out.data());
    for (int64_t k = 0; k < B * H; ++k)
      ASSERT_NEAR(out[size_t(k)], y[t * B * H + k], 1e-4) << "step " << t << " [" << k << "]";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cells, Bf16Cases,
    ::testing::Values(Case{"tanh", CellKind::rnn_tanh, nullptr},
                      Case{"relu_leaky", CellKind::rnn_relu, [](RnnConfig& c) { c.learn_leak = true; c.leak = 0.5; }},
                      Case{"lstm", CellKind::lstm, nullptr},
                      Case{"lstm_peephole", CellKind::lstm, [](RnnConfig& c) { c.peephole = true; }},
                      Case{"lstm_layer_norm", CellKind::lstm, [](RnnConfig& c) { c.layer_norm = true; }},
                      Case{"gru", CellKind::gru, nullptr},
                      Case{"gru_reset_before", CellKind::gru,
                           [](RnnConfig& c) { c.gru = GruConvention::reset_before; }},
                      Case{"gru_layer_norm", CellKind::gru, [](RnnConfig& c) { c.layer_norm = true; }}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RnnBf16, DoubleRefusesBf16) {
  RnnConfig cfg;
  cfg.input_size = 3;
  cfg.hidden_size = 4;
  RnnParams<double> params(cfg);
  Tensor<double> x({5, 2, 3}), y;
  RnnState<double> fin;
  RnnCache<double> cache;
  EXPECT_RECUR_ERROR(rnn_forward(y, fin, cache, params, x, {}, nullptr,
                                 RnnRunOptions{false, nullptr, Precision::bf16}),
                     "bf16", "double");
  EXPECT_RECUR_ERROR(RnnStream<double>(params, 2, Precision::bf16), "bf16", "double");
}

}  // namespace
}  // namespace recur
