// What this machine can do, measured in the same run as the speed table (bench/rnn_table.sh), so
// that the table's GFLOP/s can be read as a share of a ceiling taken on the same machine at the
// same moment (a VM's clock and neighbours change from one day, or minute, to the next):
//   fma_gflops     one core's FMA throughput: 16 independent vector multiply-adds in a loop, the
//                  widest vectors of this build (Highway's static target), times 2 flops per lane;
//   matmul_gflops  oneDNN's f32 matmul of two square matrices (--matmul N, default 2048) on
//                  --threads threads, median of --repeat: the rate the table's GEMMs can hope for;
//   l2_read_gbs    one core reading a buffer of --l2-kb KB (default 1024) that fits its L2 cache
//                  with vector loads, median of --repeat passes (what a one-row step product
//                  streams its weights at);
//   fork_join_us   an empty `#pragma omp parallel` region on --threads threads, median.
// Prints one JSON line.
//   recur_ceiling_bench --threads 2
#include <CLI/CLI.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <dnnl.hpp>
#include <vector>

// Static dispatch, as in the library (src/kernels/cpu/simd.h): built for this compiler's -march
// only. Highway 1.0's dynamic-target list lacks the baseline of newer CPUs (AMD Zen 5 with
// -march=native), which it refuses with an #error.
#ifndef HWY_COMPILE_ONLY_STATIC
#define HWY_COMPILE_ONLY_STATIC 1
#endif
#include <hwy/aligned_allocator.h>
#include <hwy/highway.h>

namespace {

namespace hn = hwy::HWY_NAMESPACE;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Written with every measurement's result, so that no loop is optimised away.
volatile float sink = 0;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// 16 chains of multiply-adds, each one FMA latency long per iteration: enough independent work to
// keep every FMA pipe busy. The result is returned so the loop is not optimised away.
float fma_chains(int64_t iterations, float scale, double& seconds) {
  const hn::ScalableTag<float> d;
  constexpr int kChains = 16;
  hn::Vec<decltype(d)> acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = hn::Set(d, 0.001f * float(i));
  const auto a = hn::Set(d, 0.999f), b = hn::Set(d, 1e-4f * scale);
  const Clock::time_point t0 = Clock::now();
  for (int64_t n = 0; n < iterations; ++n) {
    for (int i = 0; i < kChains; ++i) acc[i] = hn::MulAdd(acc[i], a, b);
  }
  seconds = seconds_since(t0);
  auto sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = hn::Add(sum, acc[i]);
  return hn::GetLane(hn::SumOfLanes(d, sum));
}

double fma_gflops(int repeat) {
  const hn::ScalableTag<float> d;
  const int64_t iterations = 20'000'000;
  std::vector<double> rates;
  for (int r = 0; r < repeat; ++r) {
    double s = 0;
    sink = fma_chains(iterations, float(r + 1), s);
    rates.push_back(double(iterations) * 16 * double(hn::Lanes(d)) * 2 / s / 1e9);
  }
  return median(rates);
}

double matmul_gflops(int64_t n, int threads, int repeat) {
  using tag = dnnl::memory::format_tag;
  omp_set_num_threads(threads);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream st(eng);
  const dnnl::memory::desc md({n, n}, dnnl::memory::data_type::f32, tag::ab);
  const dnnl::matmul mm(dnnl::matmul::primitive_desc(dnnl::matmul::desc(md, md, md), eng));
  std::vector<float> a(size_t(n * n), 0.5f), b(size_t(n * n), 0.25f), c(size_t(n * n));
  dnnl::memory ma(md, eng, a.data()), mb(md, eng, b.data()), mc(md, eng, c.data());
  std::vector<double> rates;
  for (int r = 0; r < repeat + 1; ++r) {  // the first call JIT-compiles: not counted
    const Clock::time_point t0 = Clock::now();
    mm.execute(st, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    st.wait();
    if (r > 0) rates.push_back(2.0 * double(n) * double(n) * double(n) / seconds_since(t0) / 1e9);
  }
  return median(rates);
}

double l2_read_gbs(int64_t kb, int repeat) {
  const hn::ScalableTag<float> d;
  const size_t count = size_t(kb) * 1024 / sizeof(float), L = hn::Lanes(d);
  auto buf = hwy::AllocateAligned<float>(count);
  for (size_t i = 0; i < count; ++i) buf[i] = float(i % 7);
  std::vector<double> rates;
  for (int r = 0; r < repeat * 20 + 20; ++r) {  // the first 20 passes bring it into cache
    const Clock::time_point t0 = Clock::now();
    auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
    for (size_t i = 0; i + 4 * L <= count; i += 4 * L) {
      s0 = hn::Add(s0, hn::Load(d, buf.get() + i));
      s1 = hn::Add(s1, hn::Load(d, buf.get() + i + L));
      s2 = hn::Add(s2, hn::Load(d, buf.get() + i + 2 * L));
      s3 = hn::Add(s3, hn::Load(d, buf.get() + i + 3 * L));
    }
    const double s = seconds_since(t0);
    sink = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
    if (r >= 20) rates.push_back(double(count * sizeof(float)) / s / 1e9);
  }
  return median(rates);
}

double fork_join_us(int threads, int repeat) {
  std::vector<double> times;
  for (int r = 0; r < repeat * 100 + 100; ++r) {
    const Clock::time_point t0 = Clock::now();
#pragma omp parallel num_threads(threads)
    { sink = float(omp_get_thread_num()); }
    if (r >= 100) times.push_back(seconds_since(t0) * 1e6);
  }
  return median(times);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"What this machine can do: FMA throughput per core, oneDNN's square f32 matmul, "
               "L2 read bandwidth, OpenMP fork and join (one JSON line)"};
  int threads = omp_get_max_threads(), repeat = 9;
  int64_t n = 2048, l2_kb = 1024;
  app.add_option("--threads", threads, "threads for the matmul and the fork/join")
      ->check(CLI::Range(1, 1024));
  app.add_option("--repeat", repeat, "timed runs of each measurement (medians)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--matmul", n, "size of the square matmul")->check(CLI::Range(64, 16384));
  app.add_option("--l2-kb", l2_kb, "buffer read for the L2 bandwidth, in KB")
      ->check(CLI::Range(16, 1 << 20));
  CLI11_PARSE(app, argc, argv);
  const double fma = fma_gflops(repeat);
  const double mm = matmul_gflops(n, threads, repeat);
  const double l2 = l2_read_gbs(l2_kb, repeat);
  const double fj = fork_join_us(threads, repeat);
  std::printf("{\"impl\": \"ceiling\", \"threads\": %d, \"vector_bits\": %d, \"fma_gflops\": %.1f, "
              "\"matmul\": %lld, \"matmul_gflops\": %.1f, \"l2_kb\": %lld, \"l2_read_gbs\": %.1f, "
              "\"fork_join_us\": %.2f}\n",
              threads, int(hn::Lanes(hn::ScalableTag<float>()) * 32), fma, static_cast<long long>(n),
              mm, static_cast<long long>(l2_kb), l2, fj);
  return 0;
}
