// Times oneDNN's own recurrent primitives (the reference recur's layer is measured against):
// lstm_forward, or lbr_gru_forward (the GRU with the reset gate after the recurrent product, as
// PyTorch's and recur's default), unidirectional, one layer, inference, f32 or bf16 (bf16 layer and
// iteration tensors and weights, f32 bias and LSTM cell state). Prints one JSON line in
// `recur bench-rnn`'s format. The weights are reordered once into the layout the primitive picks
// (not timed), as a deployed model would hold them.
//   recur_onednn_bench --cell lstm --hidden 256 --batch 32 --steps 64 --threads 2
#include <CLI/CLI.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <dnnl.hpp>
#include <cmath>
#include <random>
#include <unordered_map>
#include <vector>

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// A tensor of md's shape and type filled with uniform values in [-scale, scale], drawn in f32 and
// reordered into md's type and layout.
dnnl::memory filled(const dnnl::memory::desc& md, const dnnl::engine& eng, std::mt19937& gen,
                    float scale) {
  const size_t rank = md.dims().size();
  const dnnl::memory::desc f32_md(md.dims(), dt::f32,
                                  rank == 3 ? tag::abc : rank == 4 ? tag::abcd : tag::abcde);
  dnnl::memory f(f32_md, eng);
  std::uniform_real_distribution<float> u(-scale, scale);
  auto* p = static_cast<float*>(f.get_data_handle());
  for (size_t i = 0; i < f32_md.get_size() / sizeof(float); ++i) p[i] = u(gen);
  if (md == f32_md) return f;
  dnnl::memory m(md, eng);
  dnnl::stream s(eng);
  dnnl::reorder(f, m).execute(s, f, m);
  s.wait();
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time oneDNN's LSTM / GRU (linear-before-reset) forward primitive; prints JSON"};
  std::string cell = "lstm";
  int64_t hidden = 256, batch = 32, steps = 64, input = 0;
  std::string precision = "fp32";
  int threads = 1, repeat = 10;
  app.add_option("--cell", cell, "lstm or gru")->capture_default_str()->check(CLI::IsMember({"lstm", "gru"}));
  app.add_option("--hidden", hidden, "Hidden size H")->capture_default_str();
  app.add_option("--batch", batch, "Batch B")->capture_default_str();
  app.add_option("--steps", steps, "Time steps T")->capture_default_str();
  app.add_option("--input", input, "Input size I (0: the hidden size)")->capture_default_str();
  app.add_option("--precision", precision, "fp32, or bf16 (bf16 activations and weights)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16"}));
  app.add_option("--threads", threads, "OpenMP threads")->capture_default_str();
  app.add_option("--repeat", repeat, "Timed repetitions after one warm-up")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (input <= 0) input = hidden;
  omp_set_num_threads(threads);

  const bool lstm = cell == "lstm";
  const int64_t G = lstm ? 4 : 3, L = 1, D = 1, T = steps, N = batch, C = input, H = hidden;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const dt act = precision == "bf16" ? dt::bf16 : dt::f32;
  const dnnl::memory::desc src_layer({T, N, C}, act, tag::tnc);
  const dnnl::memory::desc src_iter({L, D, N, H}, act, tag::ldnc);
  const dnnl::memory::desc src_iter_c({L, D, N, H}, dt::f32, tag::ldnc);
  const dnnl::memory::desc w_layer_user({L, D, C, G, H}, act, tag::ldigo);
  const dnnl::memory::desc w_iter_user({L, D, H, G, H}, act, tag::ldigo);
  const dnnl::memory::desc w_layer_any({L, D, C, G, H}, act, tag::any);
  const dnnl::memory::desc w_iter_any({L, D, H, G, H}, act, tag::any);
  const dnnl::memory::desc bias({L, D, lstm ? G : G + 1, H}, dt::f32, tag::ldgo);
  const dnnl::memory::desc dst_layer({T, N, H}, act, tag::tnc);
  const dnnl::memory::desc dst_iter({L, D, N, H}, act, tag::ldnc);
  const auto dir = dnnl::rnn_direction::unidirectional_left2right;
  const auto prop = dnnl::prop_kind::forward_inference;

  dnnl::primitive prim;
  dnnl::memory::desc w_layer_md, w_iter_md;
  if (lstm) {
    dnnl::lstm_forward::desc d(prop, dir, src_layer, src_iter, src_iter_c, w_layer_any, w_iter_any,
                               bias, dst_layer, dst_iter, src_iter_c);
    dnnl::lstm_forward::primitive_desc pd(d, eng);
    w_layer_md = pd.weights_layer_desc();
    w_iter_md = pd.weights_iter_desc();
    prim = dnnl::lstm_forward(pd);
  } else {
    dnnl::lbr_gru_forward::desc d(prop, dir, src_layer, src_iter, w_layer_any, w_iter_any, bias,
                                  dst_layer, dst_iter);
    dnnl::lbr_gru_forward::primitive_desc pd(d, eng);
    w_layer_md = pd.weights_layer_desc();
    w_iter_md = pd.weights_iter_desc();
    prim = dnnl::lbr_gru_forward(pd);
  }
  std::mt19937 gen(1);
  const float scale = 1.0f / float(std::sqrt(double(H)));
  dnnl::memory x = filled(src_layer, eng, gen, 1.0f), h0 = filled(src_iter, eng, gen, 0.5f);
  dnnl::memory c0 = filled(src_iter_c, eng, gen, 0.5f), b = filled(bias, eng, gen, scale);
  dnnl::memory wl_user = filled(w_layer_user, eng, gen, scale), wi_user = filled(w_iter_user, eng, gen, scale);
  dnnl::memory wl(w_layer_md, eng), wi(w_iter_md, eng);
  dnnl::reorder(wl_user, wl).execute(strm, wl_user, wl);
  dnnl::reorder(wi_user, wi).execute(strm, wi_user, wi);
  dnnl::memory y(dst_layer, eng), hn(dst_iter, eng), cn(src_iter_c, eng);
  std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_SRC_LAYER, x},       {DNNL_ARG_SRC_ITER, h0},    {DNNL_ARG_WEIGHTS_LAYER, wl},
      {DNNL_ARG_WEIGHTS_ITER, wi},   {DNNL_ARG_BIAS, b},         {DNNL_ARG_DST_LAYER, y},
      {DNNL_ARG_DST_ITER, hn}};
  if (lstm) {
    args[DNNL_ARG_SRC_ITER_C] = c0;
    args[DNNL_ARG_DST_ITER_C] = cn;
  }
  strm.wait();

  using clock = std::chrono::steady_clock;
  std::vector<double> ms;
  for (int r = 0; r <= repeat; ++r) {
    const auto t0 = clock::now();
    prim.execute(strm, args);
    strm.wait();
    const double elapsed = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    if (r > 0) ms.push_back(elapsed);
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double flops = 2.0 * double(N * G * H * (C + H)) * double(T);
  std::printf(
      "{\"impl\": \"onednn\", \"mode\": \"forward\", \"precision\": \"%s\", \"cell\": \"%s\", \"hidden\": %lld, \"batch\": "
      "%lld, \"steps\": %lld, \"input\": %lld, \"layers\": 1, \"bidirectional\": false, "
      "\"threads\": %d, \"repeat\": %d, \"median_ms\": %.4f, \"min_ms\": %.4f, \"gflops\": %.2f}\n",
      precision.c_str(), cell.c_str(), (long long)H, (long long)N, (long long)T, (long long)C, threads, repeat, median,
      ms.front(), flops / (median * 1e6));
  return 0;
}
