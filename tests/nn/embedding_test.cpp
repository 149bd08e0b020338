// Embedding lookup: forward values, finite-difference gradient, accumulation and bounds errors.
#include "recur/nn/embedding.h"

#include <gtest/gtest.h>

#include <vector>

#include "gradcheck.h"
#include "recur/core/rng.h"

namespace recur {
namespace {

using testing::expect_grad_matches;
using testing::fill_uniform;

TEST(Embedding, ForwardGathersRows) {
  const int64_t V = 4, E = 3;
  Tensor<float> table({V, E});
  for (int64_t i = 0; i < table.numel(); ++i) table[i] = float(i);
  const std::vector<int64_t> ids = {2, 0, 2};
  Tensor<float> out({3, E});
  embedding_forward(out.ptr(), ids.data(), table.ptr(), 3, V, E);
  const std::vector<float> expected = {6, 7, 8, 0, 1, 2, 6, 7, 8};
  EXPECT_EQ(out.data, expected);
}

TEST(Embedding, GradientMatchesFiniteDifferences) {
  const int64_t N = 6, V = 5, E = 4;
  Rng rng(11);
  Tensor<double> table({V, E}), weights({N, E});
  fill_uniform(table, rng);
  fill_uniform(weights, rng);  // loss = sum(out * weights), so dout = weights
  const std::vector<int64_t> ids = {3, 1, 3, 0, 4, 3};  // repeated id 3, unused id 2
  auto loss = [&] {
    Tensor<double> out({N, E});
    embedding_forward(out.ptr(), ids.data(), table.ptr(), N, V, E);
    double s = 0;
    for (int64_t i = 0; i < out.numel(); ++i) s += out[i] * weights[i];
    return s;
  };
  Tensor<double> dtable({V, E});
  embedding_backward(dtable.ptr(), weights.ptr(), ids.data(), N, V, E);
  expect_grad_matches("dtable", table, dtable, loss);
  for (int64_t e = 0; e < E; ++e) EXPECT_EQ(dtable[2 * E + e], 0.0) << "unused row stays zero";
}

TEST(Embedding, BackwardAccumulates) {
  const int64_t V = 3, E = 2;
  const std::vector<int64_t> ids = {1};
  const std::vector<double> dout = {0.5, -1.0};
  Tensor<double> dtable({V, E}, 1.0);
  embedding_backward(dtable.ptr(), dout.data(), ids.data(), 1, V, E);
  EXPECT_EQ(dtable.data, (std::vector<double>{1, 1, 1.5, 0, 1, 1}));
}

TEST(Embedding, OutOfRangeIdThrowsNamingIdAndRow) {
  const int64_t V = 4, E = 2;
  Tensor<float> table({V, E}), out({3, E});
  for (int64_t bad : {int64_t(4), int64_t(-1)}) {
    const std::vector<int64_t> ids = {0, 1, bad};
    try {
      embedding_forward(out.ptr(), ids.data(), table.ptr(), 3, V, E);
      FAIL() << "expected recur::Error for id " << bad;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("id " + std::to_string(bad)), std::string::npos) << msg;
      EXPECT_NE(msg.find("row 2"), std::string::npos) << msg;
    }
    out.fill(1.f);
    EXPECT_THROW(embedding_backward(table.ptr(), out.ptr(), ids.data(), 3, V, E), Error);
    for (float v : table.data) EXPECT_EQ(v, 0.f) << "a bad id leaves dtable untouched";
  }
}

}  // namespace
}  // namespace recur
