// Data-parallel gradient averaging (recur/dist/data_parallel.h) without MPI: two ranks as two
// threads over an in-process communicator. Shares are contiguous and balanced; gradients become
// the weighted mean sum_r w_r g_r / sum_r w_r on every rank, whichever buckets backward finished
// early; broadcast gives rank 0's weights; one process changes nothing. (mpirun -np 2 runs of every
// trainer are in tests/cli/mpi_data_parallel.sh.)
#include "recur/dist/data_parallel.h"

#include <gtest/gtest.h>

#include <barrier>
#include <thread>

#include "recur/core/error.h"

namespace recur::dist {
namespace {

// Two ranks in one process: every collective meets at a barrier and adds rank 0's values to rank
// 1's in that order, so both ranks end with the same bits (as MPI's reductions do).
struct Meeting {
  std::barrier<> sync{2};
  const void* data[2] = {nullptr, nullptr};
};

class ThreadRank final : public Communicator {
 public:
  ThreadRank(Meeting& m, int rank) : m_(m), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return 2; }
  std::string backend() const override { return "threads"; }
  void allreduce_sum(float* data, size_t n) override { sum(data, n); }
  void allreduce_sum(double* data, size_t n) override { sum(data, n); }
  int start_allreduce_sum(float* data, size_t n) override {  // completes at once
    sum(data, n);
    return 0;
  }
  void progress() override {}
  void wait(int) override {}
  void broadcast(float* data, size_t n, int root) override { copy(data, n, root); }
  void broadcast(double* data, size_t n, int root) override { copy(data, n, root); }
  [[noreturn]] void abort(int) override { std::abort(); }

 private:
  template <class T>
  void sum(T* data, size_t n) {
    m_.data[rank_] = data;
    m_.sync.arrive_and_wait();
    const T* a = static_cast<const T*>(m_.data[0]);
    const T* b = static_cast<const T*>(m_.data[1]);
    std::vector<T> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
    m_.sync.arrive_and_wait();  // both have read both
    std::copy(out.begin(), out.end(), data);
    m_.sync.arrive_and_wait();
  }
  template <class T>
  void copy(T* data, size_t n, int root) {
    m_.data[rank_] = data;
    m_.sync.arrive_and_wait();
    std::vector<T> from(static_cast<const T*>(m_.data[root]), static_cast<const T*>(m_.data[root]) + n);
    m_.sync.arrive_and_wait();
    std::copy(from.begin(), from.end(), data);
    m_.sync.arrive_and_wait();
  }
  Meeting& m_;
  int rank_;
};

// A model of four tensors (values and gradients) whose gradients depend on the rank.
struct Model {
  std::vector<Tensor<float>> values, grads;
  explicit Model(int rank) {
    for (int64_t n : {7, 3, 20, 5}) {
      values.emplace_back(Shape{n}, float(rank + 1));
      grads.emplace_back(Shape{n});
    }
    for (size_t t = 0; t < grads.size(); ++t)
      for (size_t i = 0; i < grads[t].data.size(); ++i)
        grads[t].data[i] = float(rank == 0 ? 0.5 + 0.25 * double(i) + double(t) : -1.0 + 0.125 * double(i));
  }
  std::vector<Param<float>> params() {
    std::vector<Param<float>> out;
    for (size_t t = 0; t < values.size(); ++t) out.push_back({"p" + std::to_string(t), &values[t], &grads[t]});
    return out;
  }
};

TEST(Share, ContiguousBalancedAndComplete) {
  EXPECT_EQ(share(10, 0, 3).begin, 0);
  EXPECT_EQ(share(10, 0, 3).end, 4);
  EXPECT_EQ(share(10, 1, 3).begin, 4);
  EXPECT_EQ(share(10, 1, 3).end, 7);
  EXPECT_EQ(share(10, 2, 3).end, 10);
  EXPECT_EQ(share(8, 1, 2).begin, 4);  // N*B items: rank r takes r*B .. (r+1)*B-1
  EXPECT_EQ(share(1, 1, 2).size(), 0);  // fewer items than ranks: some take none
  for (int64_t n : {0, 1, 5, 17})
    for (int size : {1, 2, 3, 8}) {
      int64_t next = 0;
      for (int r = 0; r < size; ++r) {
        const Range s = share(n, r, size);
        EXPECT_EQ(s.begin, next);
        EXPECT_LE(s.size(), n / size + 1);
        EXPECT_GE(s.size(), n / size);
        next = s.end;
      }
      EXPECT_EQ(next, n);
    }
  EXPECT_THROW(share(4, 2, 2), Error);
}

TEST(DataParallel, WeightedMeanOnEveryRankWhicheverBucketsStartEarly) {
  Meeting meeting;
  Model m0(0), m1(1);
  const Model expect0(0), expect1(1);
  const double w[2] = {3.0, 1.0};  // rank 0's loss is the mean over 3 items, rank 1's over 1
  size_t buckets[2] = {0, 0};
  auto run = [&](int rank, Model& m) {
    ThreadRank comm(meeting, rank);
    DataParallel dp(m.params(), comm, 40);  // 10 floats a bucket: several buckets
    buckets[rank] = dp.buckets();
    dp.begin(w[rank]);
    dp.ready(&m.grads[3]);  // backward finished the last parameters first
    dp.ready(&m.grads[2]);
    EXPECT_THROW(dp.ready(&m.grads[2]), Error);  // twice
    Tensor<float> other({2});
    EXPECT_THROW(dp.ready(&other), Error);  // not a parameter's gradient
    const std::vector<double> totals = dp.sum({w[rank]});
    dp.finish(totals[0]);
  };
  std::thread t1([&] { run(1, m1); });
  run(0, m0);
  t1.join();
  EXPECT_GE(buckets[0], 3u);
  for (size_t t = 0; t < m0.grads.size(); ++t)
    for (size_t i = 0; i < m0.grads[t].data.size(); ++i) {
      const double want =
          (w[0] * expect0.grads[t].data[i] + w[1] * expect1.grads[t].data[i]) / (w[0] + w[1]);
      EXPECT_NEAR(m0.grads[t].data[i], want, 1e-6) << "tensor " << t << " element " << i;
      EXPECT_EQ(m0.grads[t].data[i], m1.grads[t].data[i]) << "the ranks disagree";
    }
}

TEST(DataParallel, BroadcastGivesRankZerosWeightsAndARankWithNothingCounts0) {
  Meeting meeting;
  Model m0(0), m1(1);
  const Model expect0(0);
  auto run = [&](int rank, Model& m) {
    ThreadRank comm(meeting, rank);
    DataParallel dp(m.params(), comm);
    dp.broadcast_parameters();
    // A short last batch: rank 1 has no items, zero gradients and weight 0.
    if (rank == 1)
      for (Tensor<float>& g : m.grads) g.fill(0.0f);
    dp.begin(rank == 0 ? 2.0 : 0.0);
    dp.finish(dp.sum({rank == 0 ? 2.0 : 0.0})[0]);
    EXPECT_TRUE(dp.any(rank == 1));
    EXPECT_FALSE(dp.any(false));
  };
  std::thread t1([&] { run(1, m1); });
  run(0, m0);
  t1.join();
  for (size_t t = 0; t < m0.values.size(); ++t) {
    EXPECT_EQ(m1.values[t].data, m0.values[t].data);
    EXPECT_EQ(m0.values[t].data[0], 1.0f);  // rank 0's
    for (size_t i = 0; i < m0.grads[t].data.size(); ++i)
      EXPECT_FLOAT_EQ(m0.grads[t].data[i], expect0.grads[t].data[i]);  // rank 0's own gradient
  }
}

// The hook data-parallel training starts reductions from: once per layer, top layer first, when
// that layer's gradients are already final.
TEST(DataParallel, BackwardReportsEachLayerWhenItsGradientsAreFinal) {
  RnnConfig cfg;
  cfg.cell = CellKind::lstm;
  cfg.input_size = 3;
  cfg.hidden_size = 4;
  cfg.num_layers = 3;
  cfg.bidirectional = true;
  RnnParams<float> params(cfg), grads(cfg);
  Rng rng(5);
  init_rnn_uniform(params, rng);
  Tensor<float> x({6, 2, 3}), y, dx;
  for (float& v : x.data) v = float(rng.normal());
  RnnState<float> fin, dinit;
  RnnCache<float> cache;
  std::vector<int> order;
  std::vector<std::vector<float>> seen(3);
  RnnRunOptions opt;
  opt.layer_grads_done = [&](int l) {
    order.push_back(l);
    seen[size_t(l)] = grads.cells[size_t(2 * l + 1)].w_hh.data;  // the reverse direction's too
  };
  rnn_forward(y, fin, cache, params, x, {}, nullptr, opt);
  Tensor<float> dy(y.shape, 1.0f);
  rnn_backward(dx, dinit, grads, cache, params, dy, nullptr);
  EXPECT_EQ(order, (std::vector<int>{2, 1, 0}));
  for (int l = 0; l < 3; ++l) {
    EXPECT_EQ(seen[size_t(l)], grads.cells[size_t(2 * l + 1)].w_hh.data) << "layer " << l;
    EXPECT_NE(seen[size_t(l)], std::vector<float>(seen[size_t(l)].size(), 0.0f)) << "layer " << l;
  }
}

TEST(DataParallel, OneProcessChangesNothing) {
  Model m(0);
  const Model before(0);
  DataParallel dp(m.params(), world());
  ASSERT_EQ(world().size(), 1);  // the test binary is not started by mpirun
  EXPECT_FALSE(dp.active());
  dp.broadcast_parameters();
  dp.begin(5.0);
  dp.ready(&m.grads[0]);
  dp.finish(17.0);
  for (size_t t = 0; t < m.grads.size(); ++t) EXPECT_EQ(m.grads[t].data, before.grads[t].data);
  EXPECT_EQ(dp.sum({1.5, 2.5}), (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ(world().backend(), "single");
}

}  // namespace
}  // namespace recur::dist
