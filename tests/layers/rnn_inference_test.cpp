// An inference forward (RnnRunOptions::inference) keeps nothing for backward: two state slots, one
// step of the cell's cache, the first layer's input read in place. Its outputs and final states are
// the ones a training forward computes, bit for bit, for every cell, with padding, both directions,
// two layers and initial states; a cache can go from inference to training and back; and backward
// on an inference cache is refused.
#include <gtest/gtest.h>

#include <string>

#include "recur/layers/rnn.h"

namespace recur {
namespace {

struct Case {
  const char* name;
  CellKind cell;
  bool peephole = false, layer_norm = false;
  GruConvention gru = GruConvention::reset_after;
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
};

TEST(RnnInference, FloatEqualsTrainingForwardBitForBit) {
  // H = 20 and 37: the vector kernels' masked last vector; 64: whole vectors only.
  for (const Case& c : kCases)
    for (int64_t H : {20, 37, 64}) check_case<float>(c, H);
}

TEST(RnnInference, DoubleEqualsTrainingForwardBitForBit) {
  for (const Case& c : kCases) check_case<double>(c, 6);
}

}  // namespace
}  // namespace recur
