// RnnStream (recur/layers/rnn_stream.h): stepping through a sequence one step at a time gives what
// rnn_forward gives over the whole sequence, for every cell and option, stacked, from a given or a
// zero state; reset starts over. Double is the same arithmetic in another order (1e-12); float
// runs oneDNN's packed products in both, so 1e-5.
#include <gtest/gtest.h>

#include <omp.h>

#include "recur/layers/rnn_stream.h"

namespace recur {
namespace {

struct Case {
  const char* name;
  CellKind cell;
  void (*tweak)(RnnConfig&);
};

class StreamCases : public ::testing::TestWithParam<Case> {};

template <class T>
void check_stream(const RnnConfig& cfg, bool with_init, double tol) {
  RnnParams<T> params(cfg);
  Rng rng(3);
  init_rnn_uniform(params, rng);
  for (auto& [name, t] : params.named())
    if (name.rfind("ln", 0) == 0 || name.find("leak") != std::string::npos || name.find("peep") != std::string::npos)
      for (auto& v : t->data) v = T(rng.uniform(-0.5, 1));
  const int64_t Ts = 6, B = 3, I = cfg.input_size, H = cfg.hidden_size, L = cfg.num_layers;
  Tensor<T> x({Ts, B, I});
  for (auto& v : x.data) v = T(rng.uniform(-1, 1));
  RnnState<T> init{Tensor<T>({L, B, H}), cfg.has_cell_state() ? Tensor<T>({L, B, H}) : Tensor<T>()};
  for (auto& v : init.h.data) v = T(rng.uniform(-1, 1));
  for (auto& v : init.c.data) v = T(rng.uniform(-1, 1));

  Tensor<T> y;
  RnnState<T> fin;
  RnnCache<T> cache;
  rnn_forward(y, fin, cache, params, x, {}, with_init ? &init : nullptr);

  RnnStream<T> stream(params, B);
  for (int pass = 0; pass < 2; ++pass) {  // the second pass checks reset
    stream.reset(with_init ? &init : nullptr);
    std::vector<T> out(size_t(B * H));
    for (int64_t t = 0; t < Ts; ++t) {
      stream.step(x.ptr() + t * B * I, out.data());
      for (int64_t k = 0; k < B * H; ++k)
        ASSERT_NEAR(out[size_t(k)], y[t * B * H + k], tol) << "pass " << pass << " step " << t << " [" << k << "]";
    }
    for (int64_t k = 0; k < fin.h.numel(); ++k) ASSERT_NEAR(stream.state().h[k], fin.h[k], tol) << "h_n";
    for (int64_t k = 0; k < fin.c.numel(); ++k) ASSERT_NEAR(stream.state().c[k], fin.c[k], tol) << "c_n";
  }
}

TEST_P(StreamCases, EqualsWholeSequenceForward) {
  RnnConfig cfg;
  cfg.cell = GetParam().cell;
  cfg.input_size = 5;
  cfg.hidden_size = 8;
  cfg.num_layers = 2;
  if (GetParam().tweak) GetParam().tweak(cfg);
  for (bool init : {false, true}) {
    check_stream<double>(cfg, init, 1e-12);
    check_stream<float>(cfg, init, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cells, StreamCases,
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

// One sequence wide enough to split its units between two threads (the unit-split step): the same
// outputs and states as the whole-sequence forward, stacked, in fp32 and in bf16, for every cell
// whose pointwise maths is per unit: LSTM (plain, peepholes, coupled), the reset-after GRU, the
// simple RNN with a learned leak and with residual recurrence.
TEST(RnnStream, UnitSplitOnTwoThreadsEqualsWholeSequence) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  for (int variant = 0; variant < 6; ++variant)
    for (const Precision precision : {Precision::fp32, Precision::bf16}) {
      SCOPED_TRACE("variant " + std::to_string(variant) + " " + precision_name(precision));
      RnnConfig cfg;
      cfg.cell = variant < 3 ? CellKind::lstm : variant == 3 ? CellKind::gru : variant == 4 ? CellKind::rnn_tanh : CellKind::rnn_relu;
      cfg.input_size = 20;
      cfg.hidden_size = 96;
      cfg.num_layers = 2;
      cfg.peephole = variant == 1;
      cfg.coupled = variant == 2;
      if (variant == 4) {
        cfg.learn_leak = true;
        cfg.leak = 0.5;
      }
      cfg.residual = variant == 5;
      RnnParams<float> params(cfg);
      Rng rng(8);
      init_rnn_uniform(params, rng);
      for (auto& c : params.cells) {
        for (auto& v : c.w_peep.data) v = float(rng.uniform(-1, 1));
        for (auto& v : c.leak.data) v = float(rng.uniform(-1, 1));
      }
      if (variant == 5)  // residual recurrence grows h: keep the weights small
        for (auto& c : params.cells)
          for (auto* t : {&c.w_ih, &c.w_hh}) for (auto& v : t->data) v *= 0.2f;
      const int64_t Ts = 5;
      Tensor<float> x({Ts, 1, 20}), y;
      for (auto& v : x.data) v = float(rng.uniform(-1, 1));
      RnnState<float> fin;
      RnnCache<float> cache;
      rnn_forward(y, fin, cache, params, x, {}, nullptr, RnnRunOptions{false, nullptr, precision});
      RnnStream<float> stream(params, 1, precision);
      std::vector<float> out(96);
      // In bf16 the two round differently: the stream's one-row products round only the weights
      // (kernels/cpu/gemv.h), the sequence's input projection (5 rows) rounds x as well.
      const double tol = precision == Precision::bf16 ? 2e-3 : 1e-4;
      for (int64_t t = 0; t < Ts; ++t) {
        stream.step(x.ptr() + t * 20, out.data());
        for (int64_t j = 0; j < 96; ++j) ASSERT_NEAR(out[size_t(j)], y[t * 96 + j], tol) << "t=" << t << " j=" << j;
      }
      for (int64_t k = 0; k < fin.c.numel(); ++k) ASSERT_NEAR(stream.state().c[k], fin.c[k], tol) << "c_n";
      for (int64_t k = 0; k < fin.h.numel(); ++k) ASSERT_NEAR(stream.state().h[k], fin.h[k], tol) << "h_n";
    }
  omp_set_num_threads(saved);
}

TEST(RnnStream, RefusesBidirectional) {
  RnnConfig cfg;
  cfg.input_size = 2;
  cfg.hidden_size = 3;
  cfg.bidirectional = true;
  RnnParams<float> params(cfg);
  EXPECT_THROW(RnnStream<float>(params, 1), Error);
}

}  // namespace
}  // namespace recur
