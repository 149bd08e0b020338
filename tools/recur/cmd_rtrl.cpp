// `recur rtrl`: Real-Time Recurrent Learning beside BPTT.
//   --mode compare  for each sequence length, the gradients of one layer by BPTT (forward, then
//                   backward through the stored activations) and by RTRL (forward only, carrying
//                   the sensitivities): time, the memory each holds, and their largest difference
//   --mode online   online learning of a delay line (target x_{t-delay}) with an update after
//                   every step and no stored history: the mean squared error per window
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"
#include "recur/core/rng.h"
#include "recur/layers/rnn.h"
#include "recur/train/rtrl.h"

namespace recur::cli {
namespace {

struct RtrlArgs {
  std::string mode = "compare", cell = "rnn_tanh", steps = "10,100,1000,10000";
  std::string precision = "fp32";
  int64_t hidden = 16, input = 4, batch = 1;
  std::vector<int64_t> lengths;  // parsed from `steps` (--seq-lens)
  int threads = 0;
  RtrlOnlineOptions online;
};

std::vector<int64_t> parse_lengths(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    check_usage(used == item.size() && used > 0 && v >= 1,
                "--seq-lens '" + s + "': '" + item + "' is not a positive integer");
    out.push_back(v);
  }
  return out;
}

template <class T>
int64_t bptt_bytes(const RnnCache<T>& cache) {
  int64_t n = 0;
  for (const auto& l : cache.layers) {
    n += l.input.numel() + l.dropout_mask.numel();
    for (const auto& d : l.dirs) n += d.states_h.numel() + d.states_c.numel() + d.cell.numel();
  }
  return n * int64_t(sizeof(T));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class F>
void compare(const RtrlArgs& a) {
  RnnConfig cfg;
  cfg.cell = parse_cell(a.cell);
  cfg.input_size = a.input;
  cfg.hidden_size = a.hidden;
  RnnParams<F> params(cfg);
  Rng rng(1);
  init_rnn_uniform(params, rng);
  const int64_t B = a.batch, H = a.hidden, I = a.input;
  std::printf("%s, H=%lld, I=%lld, B=%lld, %s: %lld parameters\n", a.cell.c_str(), (long long)H,
              (long long)I, (long long)B, a.precision.c_str(),
              (long long)Rtrl<F>(params, B).parameter_count());
  std::printf("%8s %12s %12s %14s %14s %12s\n", "T", "BPTT ms", "RTRL ms", "BPTT bytes",
              "RTRL bytes", "max |diff|");
  const std::vector<int64_t>& lengths = a.lengths;
  // One untimed pass of each first: the GEMM backend's first call sets itself up.
  std::vector<int64_t> runs{lengths.front()};
  runs.insert(runs.end(), lengths.begin(), lengths.end());
  for (size_t run = 0; run < runs.size(); ++run) {
    const int64_t T = runs[run];
    Tensor<F> x({T, B, I}), dy({T, B, H});
    for (auto* t : {&x, &dy})
      for (auto& v : t->data) v = F(rng.normal());
    auto t0 = std::chrono::steady_clock::now();
    Tensor<F> y, dx;
    RnnState<F> fin, dinit;
    RnnCache<F> cache;
    rnn_forward(y, fin, cache, params, x, {}, nullptr);
    RnnParams<F> bptt(cfg);
    rnn_backward(dx, dinit, bptt, cache, params, dy, nullptr);
    const double bptt_s = seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    Rtrl<F> rtrl(params, B);
    RnnParams<F> online(cfg);
    for (int64_t t = 0; t < T; ++t) {
      rtrl.step(x.ptr() + t * B * I, nullptr);
      rtrl.accumulate(dy.ptr() + t * B * H, nullptr, online.cells[0]);
    }
    const double rtrl_s = seconds_since(t0);
    double diff = 0, scale = 0;
    const auto pa = bptt.named(), pb = online.named();
    for (size_t k = 0; k < pa.size(); ++k)
      for (int64_t i = 0; i < pa[k].second->numel(); ++i) {
        diff = std::max(diff, double(std::abs((*pa[k].second)[i] - (*pb[k].second)[i])));
        scale = std::max(scale, double(std::abs((*pa[k].second)[i])));
      }
    if (run == 0) continue;
    std::printf("%8lld %12.3f %12.3f %14lld %14lld %12.3g (largest gradient %.3g)\n", (long long)T,
                bptt_s * 1e3, rtrl_s * 1e3, (long long)bptt_bytes(cache),
                (long long)rtrl.state_bytes(), diff, scale);
  }
}

void online(const RtrlArgs& a) {
  RtrlOnlineOptions o = a.online;
  o.cell = parse_cell(a.cell);
  o.hidden = a.hidden;
  const RtrlOnlineResult r = rtrl_online_delay(o);
  std::printf("online RTRL, %s H=%lld, delay %lld, lr %g: mean squared error per %lld steps "
              "(predicting nothing scores 0.333)\n",
              a.cell.c_str(), (long long)o.hidden, (long long)o.delay, o.lr, (long long)o.window);
  for (size_t w = 0; w < r.window_mse.size(); ++w)
    std::printf("  steps %6lld-%-6lld %.5f\n", (long long)(w * o.window + 1),
                (long long)((w + 1) * o.window), r.window_mse[w]);
  std::printf("state and sensitivities: %lld bytes; %.2f s\n", (long long)r.state_bytes, r.seconds);
}

}  // namespace

void add_rtrl(CLI::App& app, Action& action) {
  auto a = std::make_shared<RtrlArgs>();
  CLI::App* c = app.add_subcommand(
      "rtrl",
      "Real-Time Recurrent Learning: exact gradients forward in time with no stored history. "
      "--mode compare times it against BPTT over growing sequences (time, memory, largest "
      "difference); --mode online learns a delay line with an update after every step.");
  c->add_option("--mode", a->mode, "compare or online")
      ->capture_default_str()
      ->check(CLI::IsMember({"compare", "online"}));
  c->add_option("--cell", a->cell, "rnn_tanh, rnn_relu, rnn_sigmoid or lstm")
      ->capture_default_str()
      ->check(CLI::IsMember({"rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm"}));
  c->add_option("--hidden", a->hidden, "Hidden size H")->capture_default_str()->check(Positive);
  c->add_option("--input-size", a->input, "compare: input size I")->capture_default_str()->check(Positive);
  c->add_option("--batch", a->batch, "compare: batch B")->capture_default_str()->check(Positive);
  c->add_option("--seq-lens", a->steps, "compare: comma-separated sequence lengths")->capture_default_str();
  c->add_option("--precision", a->precision, "compare: fp32 (float) or fp64 (double)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "fp64"}));
  c->add_option("--delay", a->online.delay, "online: the delay d of the target x(t-d)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--seq-len", a->online.steps, "online: stream length (an update after every step)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--log-every", a->online.window, "online: steps per reported error")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--lr", a->online.lr, "online: SGD learning rate")->capture_default_str()->check(Positive);
  c->add_option("--seed", a->online.seed, "online: seed of the weights and the stream")->capture_default_str();
  add_threads_option(c, a->threads);
  c->callback([a, &action] {
    a->lengths = parse_lengths(a->steps);
    action = [a] {
      set_num_threads(a->threads);
      if (a->mode == "online") online(*a);
      else if (a->precision == "fp64") compare<double>(*a);
      else compare<float>(*a);
    };
  });
}

}  // namespace recur::cli
