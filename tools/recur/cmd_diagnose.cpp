// `recur diagnose`: how the gradient of a loss at the last step fades or grows back through time
// (recur/layers/diagnostics.h), for a trained language model on a text or for a freshly
// initialised layer on random input; JSON for the numbers, SVG for the picture.
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/core/gemm.h"
#include "recur/core/rng.h"
#include "recur/io/file.h"
#include "recur/io/svg_plot.h"
#include "recur/layers/diagnostics.h"
#include "recur/layers/rnn_spec.h"
#include "recur/models/language_model.h"

namespace recur::cli {
namespace {

struct DiagnoseArgs {
  std::string model, text, text_file, out, svg;  // text: the literal argument; text_file: --text
  std::string cell = "lstm", init = "uniform";
  int64_t hidden = 64, input = 16, steps = 100, jacobian_every = 1;
  double identity_scale = 1.0;
  int layer = -1;  // -1: the top layer
  uint64_t seed = 1;
  bool no_jacobians = false;
  int threads = 0;
};

struct Setup {
  RnnParams<double> params;
  Tensor<double> x;  // (T,1,I)
  Tensor<double> dh, dc;
  std::string what;
  std::optional<LanguageModel> lm;  // with --model: its decoder gives dh once the forward has run
  int64_t target = -1;              // with --model: the text's last token
};

// A trained language model reading `text`: the loss is the cross-entropy of its prediction of the
// text's last token from all before it.
Setup from_language_model(const DiagnoseArgs& a) {
  Setup s;
  const LanguageModel& lm = s.lm.emplace(load_language_model(a.model));
  require_left_to_right(lm, a.model, "diagnose");
  std::string text = a.text;
  if (!a.text_file.empty()) text = read_file_bytes(a.text_file);
  RECUR_CHECK(!text.empty(), (a.text_file.empty() ? "the text" : "'" + a.text_file + "'")
                                 << " is empty; the diagnosis needs at least 2 tokens");
  const std::vector<int64_t> ids = lm.vocab.encode(text, a.text_file.empty() ? "the text" : a.text_file);
  RECUR_CHECK(ids.size() >= 2, "the text holds " << ids.size() << " tokens; the diagnosis needs at least 2");
  const auto& net = lm.net;
  RECUR_CHECK(!net.config.rnn.any_bidirectional(), "'" << a.model << "' is bidirectional; diagnose reads one direction");
  RECUR_CHECK(net.config.rnn.one_engine_segment(), "'" << a.model << "' is a mixed stack or an own-loop layer ('"
                                           << format_rnn_spec(rnn_spec_from_config(net.config.rnn))
                                           << "'); diagnose takes one kind and size for every layer");
  s.params = rnn_params_cast<double>(net.rnn);
  s.target = ids.back();
  const int64_t T = int64_t(ids.size()) - 1, E = net.config.embed;
  s.x = Tensor<double>({T, 1, E});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t e = 0; e < E; ++e) s.x[t * E + e] = net.embedding[ids[size_t(t)] * E + e];
  s.what = "language model '" + a.model + "', " + std::to_string(T) + " tokens";
  return s;
}

Setup random_layer(const DiagnoseArgs& a) {
  RnnConfig cfg;
  cfg.cell = parse_cell(a.cell);
  cfg.input_size = a.input;
  cfg.hidden_size = a.hidden;
  Setup s;
  s.params = RnnParams<double>(cfg);
  Rng rng(a.seed);
  init_rnn(s.params, rng, parse_recurrent_init(a.init), a.identity_scale);
  s.x = Tensor<double>({a.steps, 1, a.input});
  for (auto& v : s.x.data) v = rng.normal();
  s.dh = Tensor<double>({a.hidden});
  double n = 0;
  for (auto& v : s.dh.data) v = rng.normal(), n += v * v;
  for (auto& v : s.dh.data) v /= std::sqrt(n);
  s.what = a.cell + " H=" + std::to_string(a.hidden) + ", " + a.init + " init, " +
           std::to_string(a.steps) + " steps of N(0,1) input, unit-norm dL/dh_T";
  return s;
}

std::vector<double> log10_of(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v) out.push_back(x > 0 ? std::log10(x) : std::nan(""));
  return out;
}

void run(const DiagnoseArgs& a) {
  set_num_threads(a.threads);
  Setup s = a.model.empty() ? random_layer(a) : from_language_model(a);
  const RnnConfig& cfg = s.params.config;
  const int layer = a.layer < 0 ? cfg.num_layers - 1 : a.layer;
  Tensor<double> y;
  RnnState<double> fin;
  RnnCache<double> cache;
  rnn_forward(y, fin, cache, s.params, s.x, {}, nullptr);
  if (s.lm) {
    // dL/dh_T of the top layer: the decoder's transpose times (softmax - one-hot of the target).
    const LanguageModel& lm = *s.lm;
    RECUR_CHECK(layer == cfg.num_layers - 1,
                "with --model the loss sits on the top layer: --layer must be " << cfg.num_layers - 1);
    const int64_t H = cfg.hidden_size, V = lm.net.config.outputs, T = s.x.dim(0);
    const double* h = y.ptr() + (T - 1) * H;
    std::vector<double> logits(static_cast<size_t>(V));
    double mx = -1e300;
    for (int64_t v = 0; v < V; ++v) {
      double z = lm.net.b_out[v];
      for (int64_t j = 0; j < H; ++j) z += double(lm.net.w_out[v * H + j]) * h[j];
      logits[size_t(v)] = z;
      mx = std::max(mx, z);
    }
    double sum = 0;
    for (double& z : logits) sum += (z = std::exp(z - mx));
    s.dh = Tensor<double>({H});
    for (int64_t v = 0; v < V; ++v) {
      const double d = logits[size_t(v)] / sum - (v == s.target ? 1.0 : 0.0);
      for (int64_t j = 0; j < H; ++j) s.dh[j] += d * double(lm.net.w_out[v * H + j]);
    }
  }
  GradientFlowOptions o;
  o.jacobians = !a.no_jacobians;
  o.jacobian_every = a.jacobian_every;
  const GradientFlow f = gradient_flow(s.params, cache, layer, s.dh, s.dc, o);
  const int64_t T = f.steps;
  std::printf("%s, layer %d\n", s.what.c_str(), layer);
  std::printf("||dL/dh_T|| = %.4g, ||dL/dh_0|| = %.4g: ratio %.3g over %lld steps, %.4f per step\n",
              f.grad_h[size_t(T)], f.grad_h[0], f.grad_h[0] / f.grad_h[size_t(T)], (long long)T,
              std::pow(f.grad_h[0] / f.grad_h[size_t(T)], 1.0 / double(T)));
  if (!f.jacobian_norm.empty()) {
    double sn = 0, sr = 0;
    int64_t n = 0;
    for (int64_t t = 0; t < T; ++t)
      if (std::isfinite(f.jacobian_norm[size_t(t)])) sn += f.jacobian_norm[size_t(t)], sr += f.jacobian_radius[size_t(t)], ++n;
    std::printf("recurrent Jacobians: mean ||J_k||_2 %.4f, mean spectral radius %.4f\n", sn / double(n), sr / double(n));
  }
  for (const GateTrace& g : f.gates) {
    double m = 0, sat = 0;
    for (int64_t t = 0; t < T; ++t) m += g.mean[size_t(t)], sat += g.saturated[size_t(t)];
    std::printf("%s gate: mean %.3f, saturated %.1f%%\n", g.name.c_str(), m / double(T), 100 * sat / double(T));
  }
  if (!a.out.empty()) {
    write_file_atomic(a.out, gradient_flow_json(f) + "\n");
    std::printf("wrote %s\n", a.out.c_str());
  }
  if (!a.svg.empty()) {
    PlotSpec spec{"gradient flow: " + s.what, "step k", "log10", {}};
    Series g{"||dL_T/dh_k||", {}, log10_of(f.grad_h), false};
    for (int64_t k = 0; k <= T; ++k) g.x.push_back(double(k));
    spec.series.push_back(g);
    if (!f.jacobian_norm.empty()) {
      Series j{"||J_k||_2", {}, log10_of(f.jacobian_norm), false};
      Series r{"spectral radius of J_k", {}, log10_of(f.jacobian_radius), false};
      for (int64_t k = 1; k <= T; ++k) j.x.push_back(double(k)), r.x.push_back(double(k));
      spec.series.push_back(j);
      spec.series.push_back(r);
    }
    write_file_atomic(a.svg, render_svg(spec));
    std::printf("wrote %s\n", a.svg.c_str());
  }
}

}  // namespace

void add_diagnose(CLI::App& app, Action& action) {
  auto a = std::make_shared<DiagnoseArgs>();
  CLI::App* c = app.add_subcommand(
      "diagnose",
      "Gradient flow through time: ||dL_T/dh_k|| for every step k, the norm and spectral radius "
      "of every recurrent Jacobian, gate statistics; for a trained language model on a text "
      "(--model with a TEXT argument or --text FILE) or a fresh layer on random input (--cell, "
      "--init). JSON and SVG out.");
  c->add_option("--model", a->model, "A language model (recur train-lm)")->check(CLI::ExistingFile);
  auto* literal = c->add_option("text", a->text,
                                "With --model: the text it reads (the loss is on its last token)");
  auto* file = c->add_option("--text", a->text_file, "With --model: read the text from this file")
                   ->check(CLI::ExistingFile);
  literal->excludes(file);
  c->add_option("--cell", a->cell, "Fresh layer: rnn_tanh, rnn_relu, rnn_sigmoid, lstm, gru")
      ->capture_default_str()
      ->check(CLI::IsMember({"rnn_tanh", "rnn_relu", "rnn_sigmoid", "lstm", "gru"}));
  c->add_option("--init", a->init, "Fresh layer: uniform, orthogonal or identity (IRNN)")
      ->capture_default_str()
      ->check(CLI::IsMember({"uniform", "orthogonal", "identity"}));
  c->add_option("--identity-scale", a->identity_scale, "Fresh layer: W_hh = scale * I with --init identity")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--hidden", a->hidden, "Fresh layer: hidden size")->capture_default_str()->check(Positive);
  c->add_option("--input-size", a->input, "Fresh layer: input size")->capture_default_str()->check(Positive);
  c->add_option("--seq-len", a->steps, "Fresh layer: sequence length")->capture_default_str()->check(Positive);
  c->add_option("--seed", a->seed, "Fresh layer: seed of weights and input")->capture_default_str();
  c->add_option("--layer", a->layer, "Layer to analyse (default: the top one)")->check(NonNegative);
  c->add_flag("--no-jacobians", a->no_jacobians, "Skip the Jacobians (2H backward steps and an eigen-solve per step)");
  c->add_option("--jacobian-every", a->jacobian_every, "Analyse every n-th step's Jacobian")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--out", a->out, "Write the numbers as JSON");
  c->add_option("--svg", a->svg, "Draw log10 of the gradient norms and Jacobian norms against the step");
  add_threads_option(c, a->threads);
  c->callback([a, &action] {
    const bool text = !a->text.empty() || !a->text_file.empty();
    check_usage(a->model.empty() || text,
                "--model needs the text it reads: a TEXT argument or --text FILE");
    check_usage(!a->model.empty() || !text, "a text is read by a language model: give --model too");
    check_usage(!a->model.empty() || a->layer <= 0,
                "a fresh layer has one layer: --layer must be 0, got " + std::to_string(a->layer));
    action = [a] { run(*a); };
  });
}

}  // namespace recur::cli
