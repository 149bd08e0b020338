// Finite-difference gradient checks (double) of the recurrent layers: every cell, every option.
//
// Loss = sum(y * Gy) + sum(h_n * Gh) + sum(c_n * Gc) with fixed random G, so every output and every
// final state carries gradient. Every parameter, the input, h0 and c0 are checked element by element
// with central differences; the tolerances are those of tests/gradcheck.h (atol 1e-7, rtol 1e-5 with
// eps 1e-6: the expected disagreement is ~1e-9, any wrong term shows as >= 1e-3).
#include <gtest/gtest.h>

#include "gradcheck.h"
#include "recur/core/gemm.h"
#include "recur/layers/rnn.h"

namespace recur {
namespace {

using testing::expect_grad_matches;
using testing::fill_uniform;

std::vector<int64_t> ragged9_early() { return {5, 2, 0, 4, 5, 1, 3, 5, 2}; }

struct Case {
  std::string name;
  RnnConfig cfg;
  std::vector<int64_t> lengths;  // empty: full length
  bool init = false;
  bool dropout_training = false;
  int64_t batch = 3;  // >= 2 * cpu::kMinRowsPerThread splits the time loop across threads
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

RnnConfig make(CellKind cell, int layers = 1, bool bidir = false) {
  RnnConfig c;
  c.cell = cell;
  c.input_size = 3;
  c.hidden_size = 4;
  c.num_layers = layers;
  c.bidirectional = bidir;
  return c;
}

struct Problem {
  RnnParams<double> params;
  Tensor<double> x, gy, gh, gc;
  RnnState<double> init;
  Case c;
  int64_t T = 5, B;

  explicit Problem(const Case& cs) : params(cs.cfg), c(cs), B(cs.batch) {
    Rng rng(42);
    init_rnn_uniform(params, rng);
    // Larger-than-default weights so nonlinearities are exercised away from their linear region.
    for (auto& [n, t] : params.named())
      for (auto& v : t->data) v *= 2.5;
    const int64_t H = cs.cfg.hidden_size, LD = cs.cfg.num_layers * cs.cfg.directions();
    x = Tensor<double>({T, B, cs.cfg.input_size});
    fill_uniform(x, rng);
    gy = Tensor<double>({T, B, cs.cfg.output_size()});
    fill_uniform(gy, rng);
    gh = Tensor<double>({LD, B, H});
    fill_uniform(gh, rng);
    gc = Tensor<double>({LD, B, H});
    fill_uniform(gc, rng);
    init.h = Tensor<double>({LD, B, H});
    fill_uniform(init.h, rng);
    if (cs.cfg.has_cell_state()) {
      init.c = Tensor<double>({LD, B, H});
      fill_uniform(init.c, rng);
    }
  }

  // Forward with a fixed dropout mask (the same seed every call).
  void forward(Tensor<double>& y, RnnState<double>& fin, RnnCache<double>& cache) {
    Rng drop(7);
    RnnRunOptions opt{c.dropout_training, &drop};
    rnn_forward(y, fin, cache, params, x, c.lengths, c.init ? &init : nullptr, opt);
  }

  double loss() {
    Tensor<double> y;
    RnnState<double> fin;
    RnnCache<double> cache;
    forward(y, fin, cache);
    double l = 0;
    for (int64_t k = 0; k < y.numel(); ++k) l += y[k] * gy[k];
    for (int64_t k = 0; k < fin.h.numel(); ++k) l += fin.h[k] * gh[k];
    for (int64_t k = 0; k < fin.c.numel(); ++k) l += fin.c[k] * gc[k];
    return l;
  }

  void check() {
    Tensor<double> y;
    RnnState<double> fin;
    RnnCache<double> cache;
    forward(y, fin, cache);
    RnnParams<double> grads(c.cfg);
    Tensor<double> dx;
    RnnState<double> dinit, dfin{gh, c.cfg.has_cell_state() ? gc : Tensor<double>()};
    rnn_backward(dx, dinit, grads, cache, params, gy, &dfin);
    auto f = [this] { return loss(); };
    auto pnamed = params.named();
    auto gnamed = grads.named();
    for (size_t i = 0; i < pnamed.size(); ++i)
      expect_grad_matches(c.name + "." + pnamed[i].first, *pnamed[i].second, *gnamed[i].second, f);
    expect_grad_matches(c.name + ".input", x, dx, f);
    if (c.init) {
      expect_grad_matches(c.name + ".h0", init.h, dinit.h, f);
      if (c.cfg.has_cell_state()) expect_grad_matches(c.name + ".c0", init.c, dinit.c, f);
    }
  }
};

std::vector<Case> cases() {
  std::vector<Case> out;
  const std::vector<int64_t> ragged = {5, 2, 0};  // full, short, empty
  auto lstm = [](bool peep, bool coupled) {
    RnnConfig c = make(CellKind::lstm);
    c.peephole = peep;
    c.coupled = coupled;
    return c;
  };
  auto gru = [](GruConvention g, int layers = 1, bool bidir = false) {
    RnnConfig c = make(CellKind::gru, layers, bidir);
    c.gru = g;
    return c;
  };
  out.push_back({"rnn_tanh", make(CellKind::rnn_tanh), {}, true});
  out.push_back({"rnn_relu", make(CellKind::rnn_relu), {}, true});
  out.push_back({"rnn_sigmoid", make(CellKind::rnn_sigmoid), {}, true});
  out.push_back({"rnn_linear", make(CellKind::rnn_linear), {}, true});
  out.push_back({"lstm", lstm(false, false), {}, true});
  out.push_back({"lstm_peephole", lstm(true, false), {}, true});
  out.push_back({"lstm_coupled", lstm(false, true), {}, true});
  out.push_back({"lstm_peephole_coupled", lstm(true, true), ragged, true});
  out.push_back({"gru_reset_after", gru(GruConvention::reset_after), {}, true});
  out.push_back({"gru_reset_before", gru(GruConvention::reset_before), {}, true});
  out.push_back({"rnn_tanh_2layer_bidir_ragged", make(CellKind::rnn_tanh, 2, true), ragged, true});
  out.push_back({"rnn_relu_3layer_ragged", make(CellKind::rnn_relu, 3), ragged, false});
  out.push_back({"lstm_2layer_bidir_ragged", make(CellKind::lstm, 2, true), ragged, true});
  out.push_back({"lstm_3layer_noinit", make(CellKind::lstm, 3), {}, false});
  RnnConfig lp = lstm(true, false);
  lp.bidirectional = true;
  out.push_back({"lstm_peephole_bidir_ragged", lp, {4, 5, 1}, true});
  out.push_back({"gru_after_2layer_bidir_ragged", gru(GruConvention::reset_after, 2, true), ragged, true});
  auto simple = [](CellKind cell, double leak, bool learn, bool residual, int layers = 1, bool bidir = false) {
    RnnConfig c = make(cell, layers, bidir);
    c.leak = leak;
    c.learn_leak = learn;
    c.residual = residual;
    return c;
  };
  out.push_back({"rnn_tanh_leaky", simple(CellKind::rnn_tanh, 0.3, false, false), {}, true});
  out.push_back({"rnn_tanh_learned_leak_ragged", simple(CellKind::rnn_tanh, 0.4, true, false), ragged, true});
  out.push_back({"rnn_relu_residual", simple(CellKind::rnn_relu, 1.0, false, true), {}, true});
  out.push_back({"rnn_tanh_residual_scaled", simple(CellKind::rnn_tanh, 0.3, false, true), {}, true});
  out.push_back({"rnn_sigmoid_residual_learned_ragged", simple(CellKind::rnn_sigmoid, 0.2, true, true),
                 ragged, true});
  out.push_back({"rnn_sigmoid_learned_leak_2layer_bidir",
                 simple(CellKind::rnn_sigmoid, 0.7, true, false, 2, true), ragged, true});
  RnnConfig ln_lstm = make(CellKind::lstm);
  ln_lstm.layer_norm = true;
  out.push_back({"lstm_layer_norm", ln_lstm, {}, true});
  RnnConfig ln_lstm2 = make(CellKind::lstm, 2, true);
  ln_lstm2.layer_norm = true;
  out.push_back({"lstm_layer_norm_2layer_bidir_ragged", ln_lstm2, ragged, true});
  RnnConfig ln_gru = gru(GruConvention::reset_after);
  ln_gru.layer_norm = true;
  out.push_back({"gru_layer_norm", ln_gru, {}, true});
  RnnConfig ln_gru2 = gru(GruConvention::reset_after, 2, true);
  ln_gru2.layer_norm = true;
  out.push_back({"gru_layer_norm_2layer_bidir_ragged", ln_gru2, ragged, true});
  out.push_back({"gru_before_2layer_bidir_ragged", gru(GruConvention::reset_before, 2, true), ragged, true});
  out.push_back({"gru_before_3layer", gru(GruConvention::reset_before, 3), {3, 1, 5}, false});
  RnnConfig drop = make(CellKind::lstm, 3, true);
  drop.dropout = 0.4;
  out.push_back({"lstm_3layer_bidir_dropout", drop, {5, 3, 4}, true, true});
  // bi=sum: both directions add into one H-wide output, which the next layer reads.
  auto summed = [](RnnConfig c) {
    c.merge = DirectionMerge::sum;
    return c;
  };
  // The layer-normalised simple RNN, plain, leaky and residual (ln_rnn.cpp), and row blocks.
  auto ln = [](RnnConfig c) {
    c.layer_norm = true;
    return c;
  };
  out.push_back({"rnn_tanh_layer_norm", ln(make(CellKind::rnn_tanh)), {}, true});
  // Groups of units at several fixed time scales (leak_scales), fixed, learned and normalised.
  auto scales = [](RnnConfig c, std::vector<double> a) {
    c.leak_scales = std::move(a);
    c.leak = c.leak_scales.front();
    return c;
  };
  out.push_back({"rnn_tanh_leak_scales_ragged", scales(make(CellKind::rnn_tanh), {0.9, 0.3, 0.05}), ragged, true});
  out.push_back({"rnn_relu_leak_scales_learned_2layer_bidir",
                 scales(simple(CellKind::rnn_relu, 0.5, true, false, 2, true), {0.6, 0.2}), ragged, true});
  out.push_back({"rnn_tanh_layer_norm_leak_scales", ln(scales(make(CellKind::rnn_tanh), {1.0, 0.5, 0.1})), {}, true});
  out.push_back({"rnn_linear_layer_norm_leaky_2layer_bidir_ragged",
                 ln(simple(CellKind::rnn_linear, 0.5, false, false, 2, true)), ragged, true});
  out.push_back({"rnn_tanh_layer_norm_residual_ragged", ln(simple(CellKind::rnn_tanh, 1.0, false, true)), ragged,
                 true});
  out.push_back({"rnn_relu_layer_norm_leaky_2layer_bidir", ln(simple(CellKind::rnn_relu, 0.4, false, false, 2, true)),
                 ragged, true});
  out.push_back({"rnn_sigmoid_layer_norm_residual_scaled_bisum",
                 summed(ln(simple(CellKind::rnn_sigmoid, 0.6, false, true, 1, true))), {}, true});
  out.push_back({"rnn_tanh_layer_norm_residual_ragged_b9", ln(simple(CellKind::rnn_tanh, 1.0, false, true)),
                 {5, 2, 0, 4, 5, 1, 3, 5, 2}, true, false, 9});
  out.push_back({"lstm_2layer_bisum_ragged", summed(make(CellKind::lstm, 2, true)), ragged, true});
  out.push_back({"gru_before_2layer_bisum_ragged", summed(gru(GruConvention::reset_before, 2, true)),
                 ragged, true});
  out.push_back({"rnn_tanh_learned_leak_2layer_bisum",
                 summed(simple(CellKind::rnn_tanh, 0.6, true, false, 2, true)), ragged, true});
  out.push_back({"rnn_relu_residual_2layer_bisum",
                 summed(simple(CellKind::rnn_relu, 1.0, false, true, 2, true)), {}, true});
  out.push_back({"lstm_layer_norm_2layer_bisum_ragged", summed(ln_lstm2), ragged, true});
  out.push_back({"lstm_peephole_coupled_3layer_bisum_dropout", [&] {
                   RnnConfig c = summed(lstm(true, true));
                   c.bidirectional = true;
                   c.num_layers = 3;
                   c.dropout = 0.3;
                   return c;
                 }(), {5, 3, 4}, true, true});
  out.push_back({"gru_after_bisum_ragged_b9", summed(gru(GruConvention::reset_after, 1, true)),
                 ragged9_early(), true, false, 9});
  // A batch large enough for the time loop to run in row blocks on two threads, with the
  // per-block gradients of the per-unit parameters (peepholes, leak) summed (tests/layers/rnn_threads_test.cpp covers every cell).
  const std::vector<int64_t> ragged9 = {5, 2, 0, 4, 5, 1, 3, 5, 2};
  out.push_back({"lstm_peephole_bidir_ragged_b9", lp, ragged9, true, false, 9});
  out.push_back({"rnn_tanh_learned_leak_ragged_b9", simple(CellKind::rnn_tanh, 0.5, true, false), ragged9,
                 true, false, 9});
  return out;
}

class RnnGradcheck : public ::testing::TestWithParam<Case> {};

TEST_P(RnnGradcheck, AllGradientsMatchFiniteDifferences) {
  // Two threads: the b9 case then runs the time loop in two row blocks (ctest gives one).
  set_num_threads(2);
  Problem p(GetParam());
  p.check();
}

INSTANTIATE_TEST_SUITE_P(Cells, RnnGradcheck, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

// Truncated BPTT: window 2 starts from window 1's final state, taken as a constant. The gradient of
// window 2's loss must equal finite differences of window 2 alone with that state frozen, and nothing
// flows into window 1 (dinit is simply not propagated).
TEST(RnnGradcheck, TruncatedBpttWindowsCarryStateWithoutBackprop) {
  for (CellKind cell : {CellKind::lstm, CellKind::gru, CellKind::rnn_tanh}) {
    Case c{std::string("truncated_") + cell_name(cell), make(cell, 2), {}, true};
    Problem p(c);
    // Window 1 from zero state: its final state becomes window 2's initial state.
    Tensor<double> y1;
    RnnState<double> fin1;
    RnnCache<double> cache1;
    Tensor<double> x1 = p.x;
    for (auto& v : x1.data) v = -0.5 * v;
    rnn_forward(y1, fin1, cache1, p.params, x1, {}, nullptr);
    p.init = fin1;
    p.check();
  }
}

// The layer refuses inputs of the wrong shape with a message naming what was expected.
TEST(RnnLayer, RejectsWrongShapes) {
  RnnParams<float> params(make(CellKind::lstm, 2));
  Tensor<float> y, x({5, 3, 7});
  RnnState<float> fin;
  RnnCache<float> cache;
  try {
    rnn_forward(y, fin, cache, params, x, {}, nullptr);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected input_size 3"), std::string::npos) << e.what();
  }
  Tensor<float> x2({5, 3, 3});
  RnnState<float> bad{Tensor<float>({1, 3, 4}), Tensor<float>({2, 3, 4})};
  EXPECT_THROW(rnn_forward(y, fin, cache, params, x2, {}, &bad), Error);
  EXPECT_THROW(rnn_forward(y, fin, cache, params, x2, {5, 6, 1}, nullptr), Error);
  EXPECT_THROW(rnn_forward(y, fin, cache, params, x2, {5, 1}, nullptr), Error);
}

// Outputs past a sequence's length are zero and final states are taken at the sequence's length:
// a padded batch equals running each sequence alone at its own length.
TEST(RnnLayer, PaddedBatchEqualsSequencesRunAlone) {
  RnnConfig cfg = make(CellKind::gru, 2, true);
  RnnParams<double> params(cfg);
  Rng rng(3);
  init_rnn_uniform(params, rng);
  const int64_t T = 6, B = 3, H = cfg.hidden_size;
  Tensor<double> x({T, B, 3});
  fill_uniform(x, rng);
  const std::vector<int64_t> len = {6, 4, 1};
  Tensor<double> y;
  RnnState<double> fin;
  RnnCache<double> cache;
  rnn_forward(y, fin, cache, params, x, len, nullptr);
  for (int64_t b = 0; b < B; ++b) {
    Tensor<double> xb({len[size_t(b)], 1, 3});
    for (int64_t t = 0; t < len[size_t(b)]; ++t)
      for (int i = 0; i < 3; ++i) xb[t * 3 + i] = x[(t * B + b) * 3 + i];
    Tensor<double> yb;
    RnnState<double> fb;
    RnnCache<double> cb;
    rnn_forward(yb, fb, cb, params, xb, {}, nullptr);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < 2 * H; ++j) {
        const double got = y[(t * B + b) * 2 * H + j];
        const double want = t < len[size_t(b)] ? yb[t * 2 * H + j] : 0.0;
        EXPECT_NEAR(got, want, 1e-12) << "b=" << b << " t=" << t << " j=" << j;
      }
    for (int64_t ld = 0; ld < 4; ++ld)
      for (int64_t j = 0; j < H; ++j)
        EXPECT_NEAR(fin.h[(ld * B + b) * H + j], fb.h[ld * H + j], 1e-12);
  }
}

}  // namespace
}  // namespace recur

namespace recur {
namespace {

// Recurrent initialisation schemes: orthogonal blocks have W^T W = I; IRNN is the identity.
TEST(RnnInit, OrthogonalBlocksAndIrnnIdentity) {
  RnnConfig cfg = make(CellKind::lstm, 2, true);
  cfg.hidden_size = 6;
  RnnParams<double> p(cfg);
  Rng rng(9);
  init_rnn(p, rng, RecurrentInit::orthogonal);
  const int64_t H = 6;
  for (const auto& c : p.cells)
    for (int64_t g = 0; g < 4; ++g) {
      const double* w = c.w_hh.ptr() + g * H * H;
      for (int64_t a = 0; a < H; ++a)
        for (int64_t b = 0; b < H; ++b) {
          double dot = 0;
          for (int64_t k = 0; k < H; ++k) dot += w[k * H + a] * w[k * H + b];
          EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-10);
        }
      EXPECT_EQ(c.b_ih[H], 1.0) << "forget-gate bias starts open";
    }
  RnnConfig irnn = make(CellKind::rnn_relu);
  RnnParams<double> q(irnn);
  init_rnn(q, rng, RecurrentInit::identity, 1.0);
  for (int64_t a = 0; a < irnn.hidden_size; ++a)
    for (int64_t b = 0; b < irnn.hidden_size; ++b)
      EXPECT_EQ(q.cells[0].w_hh[a * irnn.hidden_size + b], a == b ? 1.0 : 0.0);
  for (double v : q.cells[0].b_hh.data) EXPECT_EQ(v, 0.0);
  EXPECT_THROW(parse_recurrent_init("xavier"), Error);
}

}  // namespace
}  // namespace recur
