// The time loop splits the batch into row blocks, one per thread (src/kernels/cpu/parallel.h), and
// a batch too small to split runs the two directions of a layer at the same time (src/layers/rnn.cpp).
// Rows and directions are independent, so one thread and several must give the same outputs and
// gradients.
#include <gtest/gtest.h>

#include <omp.h>

#include "gradcheck.h"
#include "recur/core/gemm.h"
#include "recur/layers/rnn.h"

namespace recur {
namespace {

struct Result {
  Tensor<float> y, dx;
  RnnState<float> fin, dinit;
  RnnParams<float> grads;
};

Result run(const RnnParams<float>& params, const Tensor<float>& x, const Tensor<float>& gy,
        const std::vector<int64_t>& len, const RnnState<float>& init, int threads) {
  set_num_threads(threads);
  Result r{{}, {}, {}, {}, RnnParams<float>(params.config)};
  RnnCache<float> cache;
  rnn_forward(r.y, r.fin, cache, params, x, len, &init);
  rnn_backward(r.dx, r.dinit, r.grads, cache, params, gy, nullptr);
  return r;
}

void expect_close(const Tensor<float>& a, const Tensor<float>& b, const std::string& what) {
  ASSERT_EQ(a.shape, b.shape) << what;
  for (int64_t k = 0; k < a.numel(); ++k)
    ASSERT_NEAR(a[k], b[k], 1e-5f * (1.0f + std::abs(a[k]))) << what << "[" << k << "]";
}

// A 2-layer bidirectional layer of `cell` (I input features, H units), with random weights, input x
// (T,B,I), output gradient gy and initial state.
struct Problem {
  RnnConfig cfg;
  RnnParams<float> params;
  Tensor<float> x, gy;
  RnnState<float> init;
};

Problem make_problem(CellKind cell, int64_t I, int64_t H, int64_t T, int64_t B, bool peephole,
                     uint64_t seed) {
  RnnConfig cfg;
  cfg.cell = cell;
  cfg.input_size = I;
  cfg.hidden_size = H;
  cfg.num_layers = 2;
  cfg.bidirectional = true;
  cfg.peephole = peephole;
  Problem p{cfg, RnnParams<float>(cfg), Tensor<float>({T, B, I}), Tensor<float>({T, B, 2 * H}), {}};
  Rng rng(seed);
  init_rnn_uniform(p.params, rng);
  for (auto& v : p.x.data) v = float(rng.uniform(-1, 1));
  for (auto& v : p.gy.data) v = float(rng.uniform(-1, 1));
  const int64_t LD = 4;
  p.init = {Tensor<float>({LD, B, H}), cfg.has_cell_state() ? Tensor<float>({LD, B, H}) : Tensor<float>()};
  for (auto& v : p.init.h.data) v = float(rng.uniform(-1, 1));
  for (auto& v : p.init.c.data) v = float(rng.uniform(-1, 1));
  return p;
}

void expect_same_results(const Result& one, const Result& two, bool lstm) {
  expect_close(one.y, two.y, "y");
  expect_close(one.fin.h, two.fin.h, "h_n");
  expect_close(one.dx, two.dx, "dx");
  expect_close(one.dinit.h, two.dinit.h, "dh0");
  if (lstm) {
    expect_close(one.fin.c, two.fin.c, "c_n");
    expect_close(one.dinit.c, two.dinit.c, "dc0");
  }
  auto g1 = one.grads.named();
  auto g2 = two.grads.named();
  for (size_t i = 0; i < g1.size(); ++i) expect_close(*g1[i].second, *g2[i].second, g1[i].first);
}

class RowBlocks : public ::testing::TestWithParam<CellKind> {};

TEST_P(RowBlocks, OneThreadEqualsTwo) {
  const Problem p = make_problem(GetParam(), 5, 16, 7, 13, GetParam() == CellKind::lstm, 11);
  const std::vector<int64_t> len = {7, 3, 0, 7, 5, 1, 7, 2, 6, 7, 4, 7, 1};
  const int saved = omp_get_max_threads();
  const Result one = run(p.params, p.x, p.gy, len, p.init, 1);
  const Result two = run(p.params, p.x, p.gy, len, p.init, 2);
  set_num_threads(saved);
  expect_same_results(one, two, p.cfg.has_cell_state());
}

// Three rows are too few to split on two threads: each direction gets a thread of its own, in the
// training forward, the backward and the inference forward. H = 64 is wide enough that one
// direction alone would split its units.
class ConcurrentDirections : public ::testing::TestWithParam<CellKind> {};

TEST_P(ConcurrentDirections, OneThreadEqualsTwo) {
  const Problem p = make_problem(GetParam(), 6, 64, 9, 3, false, 12);
  const std::vector<int64_t> len = {9, 4, 0};
  const int saved = omp_get_max_threads();
  const Result one = run(p.params, p.x, p.gy, len, p.init, 1);
  const Result two = run(p.params, p.x, p.gy, len, p.init, 2);
  // Inference forwards on two threads, once per call and with packs kept between calls.
  RnnRunOptions opt;
  opt.inference = true;
  RnnPacks packs;
  Tensor<float> y_inf, y_kept;
  RnnState<float> fin_inf, fin_kept;
  RnnCache<float> cache;
  rnn_forward(y_inf, fin_inf, cache, p.params, p.x, len, &p.init, opt);
  opt.packs = &packs;
  for (int call = 0; call < 2; ++call) rnn_forward(y_kept, fin_kept, cache, p.params, p.x, len, &p.init, opt);
  set_num_threads(saved);
  expect_same_results(one, two, p.cfg.has_cell_state());
  expect_close(one.y, y_inf, "inference y");
  expect_close(one.y, y_kept, "kept-packs inference y");
  expect_close(one.fin.h, fin_kept.h, "inference h_n");
}

INSTANTIATE_TEST_SUITE_P(Cells, ConcurrentDirections,
                         ::testing::Values(CellKind::rnn_tanh, CellKind::lstm, CellKind::gru),
                         [](const auto& info) { return std::string(cell_name(info.param)); });

INSTANTIATE_TEST_SUITE_P(Cells, RowBlocks,
                         ::testing::Values(CellKind::rnn_tanh, CellKind::lstm, CellKind::gru),
                         [](const auto& info) { return std::string(cell_name(info.param)); });

}  // namespace
}  // namespace recur
