// Batch-row parallelism for the time loops: the rows of a batch are independent through time, so
// each thread runs the whole loop on its own contiguous block of rows, with no barrier per step.
// The GEMMs inside a block run single-threaded (oneDNN sees it is inside a parallel region).
#pragma once

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

namespace recur::cpu {

// A barrier for the threads of one parallel region that meet at every step of a time loop (a few
// microseconds apart): they spin on one shared word instead of entering the OpenMP runtime (5% of
// a B=1 H=128 GRU forward on two threads). A thread that has waited long (its partner was
// descheduled) yields its core at every further check.
class SpinBarrier {
 public:
  explicit SpinBarrier(int threads) : threads_(threads) {}
  void wait() {
    const int gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.store(gen + 1, std::memory_order_release);
      return;
    }
    for (int spins = 0; generation_.load(std::memory_order_acquire) == gen; ++spins) {
      if (spins < kSpinsBeforeYield) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  static constexpr int kSpinsBeforeYield = 1 << 14;  // ~100-600 us of pause instructions
  const int threads_;
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<int> generation_{0};
};

// Smallest block of rows worth a thread of its own.
inline constexpr int64_t kMinRowsPerThread = 4;

// How many blocks `rows` rows split into on the current thread budget.
inline int row_blocks(int64_t rows) {
  if (omp_in_parallel()) return 1;
  const int64_t by_rows = rows / kMinRowsPerThread;
  return int(std::clamp<int64_t>(std::min<int64_t>(omp_get_max_threads(), by_rows), 1, rows));
}

// Rows [begin, end) of block k of `blocks` contiguous blocks of [0, rows).
inline std::pair<int64_t, int64_t> row_block_range(int k, int blocks, int64_t rows) {
  return {rows * k / blocks, rows * (k + 1) / blocks};
}

// The row count of each of those blocks (the shapes the step products are prepared for).
inline std::vector<int64_t> block_rows(int blocks, int64_t rows) {
  std::vector<int64_t> r;
  for (int k = 0; k < blocks; ++k) {
    const auto [b0, b1] = row_block_range(k, blocks, rows);
    r.push_back(b1 - b0);
  }
  return r;
}

// Runs f(k) for k in [0, n), each on a thread of its own (inline when n <= 1). Exceptions do not
// cross the parallel region: the first one is rethrown after it.
template <class F>
void for_each_thread(int n, F&& f) {
  if (n <= 1) {
    if (n == 1) f(0);
    return;
  }
  std::exception_ptr error;
#pragma omp parallel for num_threads(n) schedule(static, 1)
  for (int k = 0; k < n; ++k) {
    try {
      f(k);
    } catch (...) {
#pragma omp critical(recur_for_each_thread_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Runs f(block, begin, end) for `blocks` contiguous blocks of [0, rows), one per thread.
template <class F>
void for_row_blocks(int blocks, int64_t rows, F&& f) {
  if (blocks <= 1) {
    f(0, int64_t(0), rows);
    return;
  }
  for_each_thread(blocks, [&](int k) {
    const auto [b0, b1] = row_block_range(k, blocks, rows);
    f(k, b0, b1);
  });
}

}  // namespace recur::cpu
