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

class RowBlocks : public ::testing::TestWithParam<CellKind> {};

TEST_P(RowBlocks, OneThreadEqualsTwo) {
  RnnConfig cfg;
  cfg.cell = GetParam();
  cfg.input_size = 5;
  cfg.hidden_size = 16;
  cfg.num_layers = 2;
  cfg.bidirectional = true;
  cfg.peephole = cfg.cell == CellKind::lstm;
  RnnParams<float> params(cfg);
  Rng rng(11);
  init_rnn_uniform(params, rng);
  const int64_t T = 7, B = 13, LD = 4, H = cfg.hidden_size;
  Tensor<float> x({T, B, 5}), gy({T, B, 2 * H});
  for (auto& v : x.data) v = float(rng.uniform(-1, 1));
  for (auto& v : gy.data) v = float(rng.uniform(-1, 1));
  RnnState<float> init{Tensor<float>({LD, B, H}), cfg.has_cell_state() ? Tensor<float>({LD, B, H})
                                                                       : Tensor<float>()};
  for (auto& v : init.h.data) v = float(rng.uniform(-1, 1));
  for (auto& v : init.c.data) v = float(rng.uniform(-1, 1));
  const std::vector<int64_t> len = {7, 3, 0, 7, 5, 1, 7, 2, 6, 7, 4, 7, 1};
  const int saved = omp_get_max_threads();
  const Result one = run(params, x, gy, len, init, 1);
  const Result two = run(params, x, gy, len, init, 2);
  set_num_threads(saved);
  expect_close(one.y, two.y, "y");
  expect_close(one.fin.h, two.fin.h, "h_n");
  expect_close(one.dx, two.dx, "dx");
  expect_close(one.dinit.h, two.dinit.h, "dh0");
  if (cfg.has_cell_state()) {
    expect_close(one.fin.c, two.fin.c, "c_n");
    expect_close(one.dinit.c, two.dinit.c, "dc0");
  }
  auto g1 = one.grads.named();
  auto g2 = two.grads.named();
  for (size_t i = 0; i < g1.size(); ++i) expect_close(*g1[i].second, *g2[i].second, g1[i].first);
}

// Three rows are too few to split on two threads: each direction gets a thread of its own, in the
// training forward, the backward and the inference forward.
class ConcurrentDirections : public ::testing::TestWithParam<CellKind> {};

TEST_P(ConcurrentDirections, OneThreadEqualsTwo) {
  RnnConfig cfg;
  cfg.cell = GetParam();
  cfg.input_size = 6;
  cfg.hidden_size = 64;  // wide enough that one thread alone would split its units
  cfg.num_layers = 2;
  cfg.bidirectional = true;
  RnnParams<float> params(cfg);
  Rng rng(12);
  init_rnn_uniform(params, rng);
  const int64_t T = 9, B = 3, LD = 4, H = cfg.hidden_size;
  Tensor<float> x({T, B, 6}), gy({T, B, 2 * H});
  for (auto& v : x.data) v = float(rng.uniform(-1, 1));
  for (auto& v : gy.data) v = float(rng.uniform(-1, 1));
  RnnState<float> init{Tensor<float>({LD, B, H}), cfg.has_cell_state() ? Tensor<float>({LD, B, H})
                                                                       : Tensor<float>()};
  for (auto& v : init.h.data) v = float(rng.uniform(-1, 1));
  for (auto& v : init.c.data) v = float(rng.uniform(-1, 1));
  const std::vector<int64_t> len = {9, 4, 0};
  const int saved = omp_get_max_threads();
  const Result one = run(params, x, gy, len, init, 1);
  const Result two = run(params, x, gy, len, init, 2);
  // Inference forwards on two threads, once per call and with packs kept between calls.
  RnnRunOptions opt;
  opt.inference = true;
  RnnPacks packs;
  Tensor<float> y_inf, y_kept;
  RnnState<float> fin_inf, fin_kept;
  RnnCache<float> cache;
  rnn_forward(y_inf, fin_inf, cache, params, x, len, &init, opt);
  opt.packs = &packs;
  for (int call = 0; call < 2; ++call) rnn_forward(y_kept, fin_kept, cache, params, x, len, &init, opt);
  set_num_threads(saved);
  expect_close(one.y, two.y, "y");
  expect_close(one.y, y_inf, "inference y");
  expect_close(one.y, y_kept, "kept-packs inference y");
  expect_close(one.fin.h, two.fin.h, "h_n");
  expect_close(one.fin.h, fin_kept.h, "inference h_n");
  expect_close(one.dx, two.dx, "dx");
  expect_close(one.dinit.h, two.dinit.h, "dh0");
  if (cfg.has_cell_state()) {
    expect_close(one.fin.c, two.fin.c, "c_n");
    expect_close(one.dinit.c, two.dinit.c, "dc0");
  }
  auto g1 = one.grads.named();
  auto g2 = two.grads.named();
  for (size_t i = 0; i < g1.size(); ++i) expect_close(*g1[i].second, *g2[i].second, g1[i].first);
}

INSTANTIATE_TEST_SUITE_P(Cells, ConcurrentDirections,
                         ::testing::Values(CellKind::rnn_tanh, CellKind::lstm, CellKind::gru),
                         [](const auto& info) { return std::string(cell_name(info.param)); });

INSTANTIATE_TEST_SUITE_P(Cells, RowBlocks,
                         ::testing::Values(CellKind::rnn_tanh, CellKind::lstm, CellKind::gru),
                         [](const auto& info) { return std::string(cell_name(info.param)); });

}  // namespace
}  // namespace recur
