// An inference forward (RnnRunOptions::inference) keeps nothing for backward: two state slots, one
// step of the cell's cache, the first layer's input read in place. Its outputs and final states are
// the ones a training forward computes, bit for bit, for every cell, with padding, both directions,
// two layers and initial states; a cache can go from inference to training and back; and backward
// on an inference cache is refused.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "recur/layers/rnn.h"

namespace recur {
namespace {

struct Case {
  const char* name;
  CellKind cell;
  bool peephole = false, layer_norm = false;
  GruConvention gru = GruConvention::reset_after;
  DirectionMerge merge = DirectionMerge::concat;
};

template <class T>
struct Problem {
  RnnParams<T> params;
  Tensor<T> x;
  std::vector<int64_t> len;
  RnnState<T> init;
};

template <class T>
Problem<T> make(const Case& c, int64_t H, bool padded, uint64_t seed) {
  RnnConfig cfg;
  cfg.cell = c.cell;
  cfg.input_size = 5;
  cfg.hidden_size = H;
  cfg.num_layers = 2;
  cfg.bidirectional = true;
  cfg.peephole = c.peephole;
  cfg.layer_norm = c.layer_norm;
  cfg.gru = c.gru;
  cfg.merge = c.merge;
  Rng rng(seed);
  const int64_t steps = 7, B = 4;
  Problem<T> p{RnnParams<T>(cfg), Tensor<T>({steps, B, 5}), {}, {}};
  init_rnn_uniform(p.params, rng);
  for (auto& v : p.x.data) v = T(rng.uniform(-1, 1));
  if (padded) p.len = {7, 3, 0, 5};
  p.init.h = Tensor<T>({4, B, H});
  if (cfg.has_cell_state()) p.init.c = Tensor<T>({4, B, H});
  for (auto* t : {&p.init.h, &p.init.c})
    for (auto& v : t->data) v = T(rng.uniform(-1, 1));
  return p;
}

template <class T>
void expect_same(const Tensor<T>& a, const Tensor<T>& b, const std::string& what) {
  ASSERT_EQ(a.shape, b.shape) << what;
  for (int64_t k = 0; k < a.numel(); ++k) ASSERT_EQ(a[k], b[k]) << what << "[" << k << "]";
}

template <class T>
void check_case(const Case& c, int64_t H) {
  for (bool padded : {false, true}) {
    const Problem<T> p = make<T>(c, H, padded, 3 + uint64_t(H));
    const std::string what = std::string(c.name) + (padded ? " padded" : "") + " H=" +
                             std::to_string(H);
    RnnRunOptions train_opt, infer_opt;
    infer_opt.inference = true;
    Tensor<T> y_train, y_infer, y_again;
    RnnState<T> fin_train, fin_infer, fin_again;
    RnnCache<T> fresh, shared;
    rnn_forward(y_train, fin_train, fresh, p.params, p.x, p.len, &p.init, train_opt);
    rnn_forward(y_infer, fin_infer, shared, p.params, p.x, p.len, &p.init, infer_opt);
    expect_same(y_infer, y_train, what + " y");
    expect_same(fin_infer.h, fin_train.h, what + " h_n");
    expect_same(fin_infer.c, fin_train.c, what + " c_n");
    EXPECT_TRUE(shared.inference);
    EXPECT_TRUE(shared.layers[0].input.empty()) << what << ": the first layer reads x in place";
    EXPECT_EQ(shared.layers[0].dirs[0].states_h.dim(0), 2) << what;

    // Backward on it is refused, naming why.
    Tensor<T> dx, dy(y_infer.shape);
    RnnState<T> dinit;
    RnnParams<T> grads(p.params.config);
    try {
      rnn_backward(dx, dinit, grads, shared, p.params, dy, nullptr);
      ADD_FAILURE() << what << ": backward on an inference cache ran";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("inference"), std::string::npos) << e.what();
    }

    // The same cache, now for training: what backward needs is there again.
    rnn_forward(y_again, fin_again, shared, p.params, p.x, p.len, &p.init, train_opt);
    expect_same(y_again, y_train, what + " y after reuse");
    RnnParams<T> g_fresh(p.params.config), g_shared(p.params.config);
    for (auto& v : dy.data) v = T(0.5);
    Tensor<T> dx_fresh;
    RnnState<T> dinit_fresh;
    rnn_backward(dx_fresh, dinit_fresh, g_fresh, fresh, p.params, dy, nullptr);
    rnn_backward(dx, dinit, g_shared, shared, p.params, dy, nullptr);
    expect_same(dx, dx_fresh, what + " dx after reuse");
    auto a = g_shared.named();
    auto b = g_fresh.named();
    for (size_t i = 0; i < a.size(); ++i) expect_same(*a[i].second, *b[i].second, what + " " + a[i].first);
  }
}

const Case kCases[] = {
    {"lstm", CellKind::lstm},
    {"lstm peephole", CellKind::lstm, true},
    {"layer-norm lstm", CellKind::lstm, false, true},
    {"gru", CellKind::gru},
    {"gru reset_before", CellKind::gru, false, false, GruConvention::reset_before},
    {"rnn_tanh", CellKind::rnn_tanh},
    {"lstm bi=sum", CellKind::lstm, false, false, GruConvention::reset_after, DirectionMerge::sum},
    {"gru bi=sum", CellKind::gru, false, false, GruConvention::reset_after, DirectionMerge::sum},
};

TEST(RnnInference, FloatEqualsTrainingForwardBitForBit) {
  // H = 20 and 37: the vector kernels' masked last vector; 64: whole vectors only.
  for (const Case& c : kCases)
    for (int64_t H : {20, 37, 64}) check_case<float>(c, H);
}

TEST(RnnInference, DoubleEqualsTrainingForwardBitForBit) {
  for (const Case& c : kCases) check_case<double>(c, 6);
}

// Two threads for the test's duration.
struct TwoThreads {
  int before = omp_get_max_threads();
  TwoThreads() { omp_set_num_threads(2); }
  ~TwoThreads() { omp_set_num_threads(before); }
};

void expect_close(const Tensor<float>& a, const Tensor<float>& b, const std::string& what) {
  ASSERT_EQ(a.shape, b.shape) << what;
  for (int64_t k = 0; k < a.numel(); ++k)
    ASSERT_NEAR(a[k], b[k], 2e-6f * (1 + std::fabs(b[k]))) << what << "[" << k << "]";
}

TEST(RnnInference, UnitSplitMatchesTheRowSplit) {
  // B = 4 rows are too few to split by rows on two threads, so the units are split: H = 128 in two
  // halves of whole vectors, H = 200 in halves of 100 (a masked last vector each).
  TwoThreads two;
  for (const Case& c : {kCases[0], kCases[3], kCases[6], kCases[7]}) {
    for (int64_t H : {128, 200}) {
      for (bool padded : {false, true}) {
        const Problem<float> p = make<float>(c, H, padded, 11);
        const std::string what = std::string(c.name) + (padded ? " padded" : "") + " H=" +
                                 std::to_string(H);
        ASSERT_EQ(rnn_inference_unit_split(p.params.config, 4), 2) << what;
        RnnRunOptions infer;
        infer.inference = true;
        Tensor<float> y_rows, y_units;
        RnnState<float> fin_rows, fin_units;
        RnnCache<float> c_rows, c_units;
        rnn_forward(y_rows, fin_rows, c_rows, p.params, p.x, p.len, &p.init);
        rnn_forward(y_units, fin_units, c_units, p.params, p.x, p.len, &p.init, infer);
        expect_close(y_units, y_rows, what + " y");
        expect_close(fin_units.h, fin_rows.h, what + " h_n");
        if (c.cell == CellKind::lstm) expect_close(fin_units.c, fin_rows.c, what + " c_n");
        // Padded steps give zero outputs, as in the row split.
        if (padded) {
          for (int64_t j = 0, W = y_units.dim(2); j < W; ++j)
            ASSERT_EQ(y_units[(6 * 4 + 1) * W + j], 0.0f);
        }
      }
    }
  }
  // Where the rows split evenly and the weight fits a core's cache, the rows are split.
  RnnConfig small;
  small.cell = CellKind::lstm;
  small.input_size = small.hidden_size = 128;
  EXPECT_EQ(rnn_inference_unit_split(small, 32), 0);
  small.hidden_size = 512;  // 4 MB
  EXPECT_EQ(rnn_inference_unit_split(small, 32), 0);
  small.hidden_size = 1024;  // a 16 MB recurrent weight
  EXPECT_EQ(rnn_inference_unit_split(small, 32), 2);
  small.peephole = true;  // no fused kernel with a state stride
  EXPECT_EQ(rnn_inference_unit_split(small, 32), 0);
}

TEST(RnnInference, PreparedBf16StaysNearFp32InBothSplits) {
  // bf16 products (packed projection, packed step products) on the unit split (B = 4) and the
  // row split (B = 16): within the tolerance the bf16 layer tests state (0.03), and not equal.
  TwoThreads two;
  for (const Case& c : {kCases[0], kCases[3]}) {
    for (int64_t B : {4, 16}) {
      Problem<float> p = make<float>(c, 128, false, 8);
      Tensor<float> x({7, B, 5});
      for (int64_t k = 0; k < x.numel(); ++k) x[k] = p.x[k % p.x.numel()];
      PreparedRnn<float> fp32(p.params), bf16(p.params, Precision::bf16);
      Tensor<float> y32, y16;
      RnnState<float> fin32, fin16;
      fp32.forward(y32, fin32, x);
      bf16.forward(y16, fin16, x);
      ASSERT_EQ(y16.shape, y32.shape);
      double worst = 0;
      for (int64_t k = 0; k < y32.numel(); ++k)
        worst = std::max(worst, double(std::fabs(y16[k] - y32[k])));
      EXPECT_LT(worst, 0.03) << c.name << " B=" << B;
      EXPECT_GT(worst, 0.0) << c.name << " B=" << B << ": bf16 rounding should show";
    }
  }
}

TEST(RnnInference, PreparedEqualsRnnForwardAndRepacksForANewBatch) {
  TwoThreads two;
  for (const Case& c : kCases) {
    for (int64_t H : {20, 128}) {
      const Problem<float> p = make<float>(c, H, true, 5);
      const std::string what = std::string(c.name) + " H=" + std::to_string(H);
      PreparedRnn<float> prepared(p.params);
      RnnRunOptions infer;
      infer.inference = true;
      // Batch 4, then 3 (the packs are built again), then 4 again.
      for (int64_t B : {4, 3, 4}) {
        Tensor<float> x({7, B, 5});
        std::copy_n(p.x.ptr(), x.numel(), x.ptr());
        const std::vector<int64_t> len(p.len.begin(), p.len.begin() + B);
        Tensor<float> y_plain, y_prepared;
        RnnState<float> fin_plain, fin_prepared;
        RnnCache<float> cache;
        rnn_forward(y_plain, fin_plain, cache, p.params, x, len, nullptr, infer);
        prepared.forward(y_prepared, fin_prepared, x, len);
        // Unit split (H = 128 on two threads): the prepared slices' projections are one packed
        // product each where rnn_forward runs one sgemm per gate, so rounding may differ.
        const std::string at = ", B=" + std::to_string(B);
        if (rnn_inference_unit_split(p.params.config, B) > 0) {
          expect_close(y_prepared, y_plain, what + " y" + at);
          expect_close(fin_prepared.h, fin_plain.h, what + " h_n" + at);
        } else {
          expect_same(y_prepared, y_plain, what + " y" + at);
          expect_same(fin_prepared.h, fin_plain.h, what + " h_n" + at);
        }
      }
    }
  }
  // An empty sequence: no output rows, the final state is the initial one.
  {
    const Problem<float> p = make<float>(kCases[0], 20, false, 7);
    PreparedRnn<float> prepared(p.params);
    Tensor<float> y, x({0, 4, 5});
    RnnState<float> fin;
    prepared.forward(y, fin, x, {}, &p.init);
    EXPECT_EQ(y.shape, Shape({0, 4, 40}));
    expect_same(fin.h, p.init.h, "h_n of an empty sequence");
  }
  // The params are copied: changing the original afterwards changes nothing.
  Problem<float> p = make<float>(kCases[0], 20, false, 6);
  PreparedRnn<float> prepared(p.params);
  Tensor<float> y_before, y_after;
  RnnState<float> fin;
  prepared.forward(y_before, fin, p.x);
  for (auto& v : p.params.cells[0].w_hh.data) v = 0;
  prepared.forward(y_after, fin, p.x);
  expect_same(y_after, y_before, "after the original changed");
}

// RnnPacks (an evaluation pass's packs, keyed by the params): windows of changing batch and length
// through two layers' params give PreparedRnn's results, window after window, and each params
// object keeps its own packs; a training forward given packs ignores them (backward still runs).
TEST(RnnInference, PacksKeptAcrossCallsEqualPreparedRnn) {
  TwoThreads two;
  for (const Case& c : kCases) {
    for (int64_t H : {20, 128}) {
      const Problem<float> a = make<float>(c, H, true, 8), b = make<float>(c, H, false, 9);
      const std::string what = std::string(c.name) + " H=" + std::to_string(H);
      PreparedRnn<float> prepared_a(a.params), prepared_b(b.params);
      RnnPacks packs;
      RnnRunOptions infer;
      infer.inference = true;
      infer.packs = &packs;
      RnnCache<float> cache;
      for (const auto& [B, steps] : {std::pair<int64_t, int64_t>{4, 7}, {4, 2}, {1, 7}, {3, 5}, {4, 7}}) {
        for (const Problem<float>* p : {&a, &b}) {
          Tensor<float> x({steps, B, 5});
          std::copy_n(p->x.ptr(), x.numel(), x.ptr());
          std::vector<int64_t> len;
          if (!p->len.empty())
            for (int64_t k = 0; k < B; ++k) len.push_back(std::min(p->len[size_t(k)], steps));
          Tensor<float> y, y_prepared;
          RnnState<float> fin, fin_prepared;
          rnn_forward(y, fin, cache, p->params, x, len, nullptr, infer);
          (p == &a ? prepared_a : prepared_b).forward(y_prepared, fin_prepared, x, len);
          const std::string at = what + (p == &a ? " a" : " b") + " B=" + std::to_string(B) +
                                 " T=" + std::to_string(steps);
          expect_same(y, y_prepared, at + " y");
          expect_same(fin.h, fin_prepared.h, at + " h_n");
        }
      }
      // Training: the packs are not used, and backward runs on the cache.
      RnnRunOptions train;
      train.packs = &packs;
      Tensor<float> y, y_ref, dx;
      RnnState<float> fin, fin_ref, dinit;
      RnnCache<float> train_cache, ref_cache;
      rnn_forward(y, fin, train_cache, a.params, a.x, a.len, nullptr, train);
      rnn_forward(y_ref, fin_ref, ref_cache, a.params, a.x, a.len, nullptr, RnnRunOptions{});
      expect_same(y, y_ref, what + " training forward given packs");
      Tensor<float> dy(y.shape);
      for (auto& v : dy.data) v = 0.25f;
      RnnParams<float> grads(a.params.config);
      rnn_backward(dx, dinit, grads, train_cache, a.params, dy, nullptr);
      EXPECT_EQ(dx.shape, a.x.shape) << what;
    }
  }
}

}  // namespace
}  // namespace recur
