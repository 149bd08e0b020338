// The time loop keeps its cache, outputs and workspaces between calls (Tensor::reuse_as) and
// writes them in full, so a call on buffers from an earlier, different call (padding, an initial
// state, dropout, more layers) gives exactly what the same call on fresh buffers gives.
#include <gtest/gtest.h>

#include "recur/layers/rnn.h"

namespace recur {
namespace {

struct Buffers {
  Tensor<double> y, dx;
  RnnState<double> fin, dinit;
  RnnCache<double> cache;
};

struct Problem {
  RnnParams<double> params;
  Tensor<double> x, gy;
  std::vector<int64_t> len;
  RnnState<double> init;
  bool use_init, training;
};

Problem make(CellKind cell, bool padded, bool use_init, bool training, uint64_t seed) {
  RnnConfig cfg;
  cfg.cell = cell;
  cfg.input_size = 4;
  cfg.hidden_size = 6;
  cfg.num_layers = 2;
  cfg.bidirectional = true;
  cfg.dropout = 0.3;
  Rng rng(seed);
  Problem s{RnnParams<double>(cfg), Tensor<double>({5, 3, 4}), Tensor<double>({5, 3, 12}), {}, {},
          use_init, training};
  init_rnn_uniform(s.params, rng);
  for (auto* t : {&s.x, &s.gy})
    for (auto& v : t->data) v = rng.uniform(-1, 1);
  if (padded) s.len = {5, 2, 0};
  s.init.h = Tensor<double>({4, 3, 6});
  s.init.c = cfg.has_cell_state() ? Tensor<double>({4, 3, 6}) : Tensor<double>();
  for (auto* t : {&s.init.h, &s.init.c})
    for (auto& v : t->data) v = rng.uniform(-1, 1);
  return s;
}

void run(Buffers& r, RnnParams<double>& grads, const Problem& s) {
  Rng dropout_rng(9);
  RnnRunOptions opt{s.training, &dropout_rng};
  rnn_forward(r.y, r.fin, r.cache, s.params, s.x, s.len, s.use_init ? &s.init : nullptr, opt);
  rnn_backward(r.dx, r.dinit, grads, r.cache, s.params, s.gy, nullptr);
}

void expect_equal(const Tensor<double>& a, const Tensor<double>& b, const char* what) {
  ASSERT_EQ(a.shape, b.shape) << what;
  for (int64_t k = 0; k < a.numel(); ++k) ASSERT_EQ(a[k], b[k]) << what << "[" << k << "]";
}

class Reuse : public ::testing::TestWithParam<CellKind> {};

TEST_P(Reuse, ReusedBuffersGiveTheFreshResult) {
  // The first call fills the buffers (padding, dropout, an initial state); the second runs
  // without any of them on the same buffers, and the third goes back.
  const Problem first = make(GetParam(), true, true, true, 1);
  const Problem second = make(GetParam(), false, false, false, 2);
  Buffers reused;
  for (const Problem* s : {&first, &second, &first}) {
    RnnParams<double> g_reused(s->params.config), g_fresh(s->params.config);
    run(reused, g_reused, *s);
    Buffers fresh;
    run(fresh, g_fresh, *s);
    expect_equal(reused.y, fresh.y, "y");
    expect_equal(reused.dx, fresh.dx, "dx");
    expect_equal(reused.fin.h, fresh.fin.h, "h_n");
    expect_equal(reused.dinit.h, fresh.dinit.h, "dh0");
    expect_equal(reused.fin.c, fresh.fin.c, "c_n");
    expect_equal(reused.dinit.c, fresh.dinit.c, "dc0");
    auto a = g_reused.named();
    auto b = g_fresh.named();
    for (size_t i = 0; i < a.size(); ++i) expect_equal(*a[i].second, *b[i].second, a[i].first.c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Cells, Reuse,
                         ::testing::Values(CellKind::rnn_tanh, CellKind::lstm, CellKind::gru),
                         [](const auto& info) { return std::string(cell_name(info.param)); });

}  // namespace
}  // namespace recur
