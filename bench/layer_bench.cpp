// Times recur's recurrent layer, forward and forward+backward, and prints one JSON line with the
// medians. bench/compare_torch.sh runs it beside PyTorch in the same run and prints the ratios.
//   recur_layer_bench --cell lstm --hidden 256 --batch 32 --steps 100 --input 64 --layers 2
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "recur/core/gemm.h"
#include "recur/core/memory.h"
#include "recur/layers/rnn.h"

int main(int argc, char** argv) {
  recur::retain_freed_memory();
  CLI::App app{"Time recur's recurrent layer (forward and forward+backward); prints JSON"};
  std::string cell = "lstm";
  int64_t hidden = 256, batch = 32, steps = 100, input = 64;
  int layers = 1, threads = 1, repeat = 10;
  app.add_option("--cell", cell, "lstm, gru, rnn_tanh, rnn_relu")->capture_default_str();
  app.add_option("--hidden", hidden)->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--steps", steps)->capture_default_str();
  app.add_option("--input", input)->capture_default_str();
  app.add_option("--layers", layers)->capture_default_str();
  app.add_option("--threads", threads)->capture_default_str();
  app.add_option("--repeat", repeat, "Timed repetitions (after one warm-up)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  recur::set_num_threads(threads);

  recur::RnnConfig cfg;
  cfg.cell = recur::parse_cell(cell);
  cfg.input_size = input;
  cfg.hidden_size = hidden;
  cfg.num_layers = layers;
  recur::RnnParams<float> params(cfg), grads(cfg);
  recur::Rng rng(1);
  recur::init_rnn_uniform(params, rng);
  recur::Tensor<float> x({steps, batch, input});
  for (auto& v : x.data) v = float(rng.uniform(-1, 1));
  recur::Tensor<float> dy({steps, batch, hidden});
  for (auto& v : dy.data) v = float(rng.uniform(-1, 1));

  using clock = std::chrono::steady_clock;
  std::vector<double> fwd, train;
  for (int r = 0; r <= repeat; ++r) {
    recur::Tensor<float> y, dx;
    recur::RnnState<float> fin, dinit;
    recur::RnnCache<float> cache;
    const auto t0 = clock::now();
    recur::rnn_forward(y, fin, cache, params, x, {}, nullptr);
    const auto t1 = clock::now();
    recur::rnn_backward(dx, dinit, grads, cache, params, dy, nullptr);
    const auto t2 = clock::now();
    if (r == 0) continue;  // warm-up
    fwd.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    train.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf(
      "{\"impl\": \"recur\", \"cell\": \"%s\", \"hidden\": %lld, \"batch\": %lld, \"steps\": %lld, "
      "\"input\": %lld, \"layers\": %d, \"threads\": %d, \"forward_ms\": %.3f, \"train_ms\": %.3f}\n",
      cell.c_str(), (long long)hidden, (long long)batch, (long long)steps, (long long)input, layers,
      threads, median(fwd), median(train));
  return 0;
}
