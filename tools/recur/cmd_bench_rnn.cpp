// `recur bench-rnn`: times the recurrent layer in one of three modes and prints one JSON line with
// the median and the achieved GFLOP/s. bench/compare_torch.sh runs it beside PyTorch.
//   forward  one forward pass over (T,B,I)
//   train    one forward and one backward pass (BPTT, all gradients)
//   step     one time step of streaming inference (RnnStream): (B,I) in, the state kept
// --precision bf16 runs every product on bfloat16 operands with float accumulation (mixed precision).
// --cell clockwork times the clockwork RNN (--periods), counting the FLOPs of its active modules.
// FLOPs counted: the GEMMs only, 2 B G H (in + H) per step, layer and direction (in = I for the
// first layer, D*H above); train counts three times the forward (the backward's dX and dW GEMMs).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <vector>

#include "commands.h"
#include "recur/core/gemm.h"
#include "recur/core/memory.h"
#include "recur/layers/clockwork.h"
#include "recur/layers/rnn.h"
#include "recur/layers/rnn_stream.h"

namespace recur::cli {
namespace {

struct BenchArgs {
  std::string cell = "lstm", mode = "forward", precision = "fp32";
  int64_t hidden = 256, batch = 32, steps = 64, input = 0;
  int layers = 1, threads = 0, repeat = 10;
  std::vector<int64_t> periods{1, 2, 4, 8};  // clockwork
  bool bidirectional = false;
  bool pack_per_call = false;  // forward: rnn_forward, packing at every call, not PreparedRnn
};

double forward_flops(const RnnConfig& c, int64_t B, int64_t T) {
  double f = 0;
  const int64_t G = c.gates(), H = c.hidden_size, D = c.directions();
  for (int l = 0; l < c.num_layers; ++l) {
    const int64_t in = l == 0 ? c.input_size : D * H;
    f += 2.0 * double(B * G * H * (in + H)) * double(T * D);
  }
  return f;
}

// Runs `once` a warm-up time and then `repeat` times; the sorted milliseconds of the timed runs.
std::vector<double> time_runs(int repeat, const std::function<void()>& once) {
  using clock = std::chrono::steady_clock;
  std::vector<double> ms;
  for (int r = 0; r <= repeat; ++r) {
    const auto t0 = clock::now();
    once();
    const double elapsed = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    if (r > 0) ms.push_back(elapsed);
  }
  std::sort(ms.begin(), ms.end());
  return ms;
}

void print_result(const BenchArgs& a, int64_t input, const std::vector<double>& ms, double flops) {
  const double median = ms[ms.size() / 2];
  std::printf(
      "{\"impl\": \"recur\", \"mode\": \"%s\", \"precision\": \"%s\", \"cell\": \"%s\", \"hidden\": %lld, \"batch\": %lld, "
      "\"steps\": %lld, \"input\": %lld, \"layers\": %d, \"bidirectional\": %s, \"threads\": %d, "
      "\"repeat\": %d, \"prepared\": %s, \"median_ms\": %.4f, \"min_ms\": %.4f, \"gflops\": %.2f}\n",
      a.mode.c_str(), a.precision.c_str(), a.cell.c_str(), (long long)a.hidden, (long long)a.batch, (long long)a.steps,
      (long long)input, a.layers, a.bidirectional ? "true" : "false", omp_get_max_threads(), a.repeat,
      a.mode == "forward" && !a.pack_per_call ? "true" : "false", median, ms.front(), flops / (median * 1e6));
}

// The clockwork RNN: FLOPs are those of the active modules only (recur/layers/clockwork.h).
void run_clockwork_bench(const BenchArgs& a) {
  ClockworkConfig cfg{a.input > 0 ? a.input : a.hidden, a.hidden, a.periods};
  ClockworkParams<float> params(cfg), grads(cfg);
  Rng rng(1);
  init_clockwork(params, rng);
  const int64_t T = a.steps, B = a.batch, I = cfg.input_size;
  Tensor<float> x({T, B, I}), dy({T, B, a.hidden});
  for (auto* t : {&x, &dy})
    for (auto& v : t->data) v = float(rng.uniform(-1, 1));
  const std::vector<double> ms = time_runs(a.repeat, [&] {
    Tensor<float> y, hT, dx, dh0;
    ClockworkCache<float> cache;
    clockwork_forward(y, hT, cache, params, x, nullptr);
    if (a.mode == "train") clockwork_backward(dx, dh0, grads, cache, params, dy, nullptr);
  });
  print_result(a, I, ms, 2 * clockwork_forward_macs(cfg, T, B) * (a.mode == "train" ? 3 : 1));
}

void run_bench(const BenchArgs& a) {
  retain_freed_memory();
  set_num_threads(a.threads);
  if (a.cell == "clockwork") return run_clockwork_bench(a);
  RnnConfig cfg;
  cfg.cell = parse_cell(a.cell);
  cfg.hidden_size = a.hidden;
  cfg.input_size = a.input > 0 ? a.input : a.hidden;
  cfg.num_layers = a.layers;
  cfg.bidirectional = a.bidirectional;
  cfg.validate();
  RnnParams<float> params(cfg), grads(cfg);
  Rng rng(1);
  init_rnn_uniform(params, rng);
  const int64_t T = a.mode == "step" ? 1 : a.steps, B = a.batch, I = cfg.input_size;
  Tensor<float> x({T, B, I});
  for (auto& v : x.data) v = float(rng.uniform(-1, 1));
  Tensor<float> dy({T, B, cfg.output_size()});
  for (auto& v : dy.data) v = float(rng.uniform(-1, 1));

  // step mode: the streaming API, weights packed once, state carried from step to step
  std::optional<RnnStream<float>> stream;
  const Precision precision = parse_precision(a.precision);
  if (a.mode == "step") stream.emplace(params, B, precision);
  RnnRunOptions opt{false, nullptr, precision};
  opt.inference = a.mode == "forward";  // as oneDNN's forward_inference and torch.no_grad()
  // forward: weights packed once, outside the timed calls, as oneDNN's benchmark reorders its
  // weights once (--pack-per-call: rnn_forward, packing inside every call)
  std::optional<PreparedRnn<float>> prepared;
  if (a.mode == "forward" && !a.pack_per_call) prepared.emplace(params, precision);
  // Outputs, cache and workspaces live across repetitions, as in a training loop: after the
  // warm-up no call allocates them again.
  Tensor<float> y(a.mode == "step" ? Shape{B, a.hidden} : Shape{}), dx;
  RnnState<float> fin, dinit;
  RnnCache<float> cache;
  std::vector<double> ms = time_runs(a.repeat, [&] {
    if (a.mode == "step") {
      for (int64_t t = 0; t < a.steps; ++t) stream->step(x.ptr(), y.ptr());
    } else {
      if (prepared) prepared->forward(y, fin, x);
      else rnn_forward(y, fin, cache, params, x, {}, nullptr, opt);
      if (a.mode == "train") rnn_backward(dx, dinit, grads, cache, params, dy, nullptr);
    }
  });
  if (a.mode == "step")
    for (double& v : ms) v /= double(a.steps);
  print_result(a, I, ms, forward_flops(cfg, B, T) * (a.mode == "train" ? 3 : 1));
}

}  // namespace

void add_bench_rnn(CLI::App& app, Action& action) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* c = app.add_subcommand(
      "bench-rnn",
      "Time the recurrent layer on random data and print one JSON line: the median and fastest "
      "time of one forward pass (--mode forward), one forward+backward (train), or one step of "
      "streaming inference with the state kept (step), and the GEMM GFLOP/s achieved. "
      "bench/compare_torch.sh runs it beside PyTorch.");
  c->add_option("--cell", a->cell, "Recurrent cell")
      ->capture_default_str()
      ->check(CLI::IsMember({"lstm", "gru", "rnn_tanh", "rnn_relu", "clockwork"}));
  c->add_option("--periods", a->periods, "clockwork: module periods, fastest first")
      ->capture_default_str()
      ->delimiter(',');
  c->add_option("--mode", a->mode, "forward, train (forward+backward) or step")
      ->capture_default_str()
      ->check(CLI::IsMember({"forward", "train", "step"}));
  c->add_option("--hidden", a->hidden, "Hidden size H")->capture_default_str()->check(Positive);
  c->add_option("--batch", a->batch, "Batch B")->capture_default_str()->check(Positive);
  c->add_option("--seq-len", a->steps, "Time steps T (step mode: steps per timed repetition)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--input-size", a->input, "Input size I (0: the hidden size)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--layers", a->layers, "Stacked layers")->capture_default_str()->check(Positive);
  c->add_flag("--bidirectional", a->bidirectional, "Both directions (not with --mode step)");
  c->add_flag("--pack-per-call", a->pack_per_call,
              "forward: time rnn_forward, which packs the weights inside every call, instead of "
              "PreparedRnn, which packs them once");
  c->add_option("--precision", a->precision,
                "fp32, or bf16 (bfloat16 products with float accumulation)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16"}));
  add_threads_option(c, a->threads);
  c->add_option("--repeat", a->repeat, "Timed repetitions after one warm-up")
      ->capture_default_str()
      ->check(Positive);
  c->callback([a, &action] {
    check_usage(a->cell != "clockwork" ||
                    (a->mode != "step" && a->layers == 1 && !a->bidirectional && a->precision == "fp32"),
                "--cell clockwork runs one unidirectional layer in fp32, --mode forward or train");
    check_usage(a->mode != "step" || !a->bidirectional,
                "--mode step streams one direction: a bidirectional layer needs the whole sequence");
    for (int64_t p : a->periods)
      check_usage(p >= 1, "--periods: every period must be >= 1, got " + std::to_string(p));
    action = [a] { run_bench(*a); };
  });
}

}  // namespace recur::cli
