// `recur run-rnn`: runs a PyTorch nn.RNN / nn.LSTM / nn.GRU from its state_dict (safetensors) on a
// .npy input, optionally with BPTT for the loss sum(Y * G), writing PyTorch-shaped results.
#include <cstdio>

#include "commands.h"
#include "recur/core/layout.h"
#include "recur/io/npy.h"
#include "recur/io/safetensors.h"
#include "recur/layers/rnn.h"

namespace recur::cli {
namespace {

struct RunRnnArgs {
  std::string cell, model, input, out, h0, c0, hn, cn, lengths, grad_output, grads;
  std::string gru_convention = "reset_after";
  bool batch_first = false;
};

Tensor<float> load_array(const std::string& path, const char* what, int rank) {
  Tensor<float> t = load_npy<float>(path);
  RECUR_CHECK(t.rank() == rank, path << ": " << what << " must have " << rank
                                     << " dimensions, got shape " << t.shape_string());
  check_finite(t, path + " (" + what + ")");
  return t;
}

void run(const RunRnnArgs& a) {
  const CellKind cell = parse_cell(a.cell);
  const GruConvention conv = a.gru_convention == "reset_before" ? GruConvention::reset_before
                                                                 : GruConvention::reset_after;
  const Safetensors<float> st = load_safetensors<float>(a.model);
  for (const auto& [name, t] : st.tensors) check_finite(t, a.model + " tensor '" + name + "'");
  const RnnParams<float> params = params_from_named(cell, st.tensors, a.model, conv);
  const RnnConfig& cfg = params.config;

  Tensor<float> x = load_array(a.input, "input", 3);
  if (a.batch_first) x = swap_first_axes(x);
  const int64_t B = x.dim(1);
  RECUR_CHECK(x.dim(2) == cfg.input_size, a.input << ": input has " << x.dim(2)
                                                  << " features but " << a.model
                                                  << " expects input_size " << cfg.input_size);
  std::vector<int64_t> lengths;
  if (!a.lengths.empty()) {
    lengths = load_npy_int(a.lengths);
    RECUR_CHECK(int64_t(lengths.size()) == B, a.lengths << ": holds " << lengths.size()
                                                        << " lengths, expected one per sequence ("
                                                        << B << ")");
    for (size_t b = 0; b < lengths.size(); ++b)
      RECUR_CHECK(lengths[b] >= 0 && lengths[b] <= x.dim(0),
                  a.lengths << ": lengths[" << b << "] = " << lengths[b] << " is outside [0, T = "
                            << x.dim(0) << "]");
  }
  RnnState<float> init;
  const bool has_init = !a.h0.empty() || !a.c0.empty();
  const Shape state_shape{int64_t(cfg.num_layers) * cfg.directions(), B, cfg.hidden_size};
  if (has_init) {
    init.h = a.h0.empty() ? Tensor<float>(state_shape) : load_array(a.h0, "h0", 3);
    RECUR_CHECK(init.h.shape == state_shape, a.h0 << ": h0 has shape " << init.h.shape_string()
                                                  << ", expected " << shape_str(state_shape)
                                                  << " (layers*directions, batch, hidden)");
    if (cell == CellKind::lstm) {
      init.c = a.c0.empty() ? Tensor<float>(state_shape) : load_array(a.c0, "c0", 3);
      RECUR_CHECK(init.c.shape == state_shape, a.c0 << ": c0 has shape " << init.c.shape_string()
                                                    << ", expected " << shape_str(state_shape));
    }
  }

  Tensor<float> y;
  RnnState<float> fin;
  RnnCache<float> cache;
  rnn_forward(y, fin, cache, params, x, lengths, has_init ? &init : nullptr,
              RnnRunOptions().with_inference(a.grad_output.empty()));

  std::map<std::string, Tensor<float>> grad_out;
  if (!a.grad_output.empty()) {
    Tensor<float> g = load_array(a.grad_output, "grad-output", 3);
    if (a.batch_first) g = swap_first_axes(g);
    RECUR_CHECK(g.shape == y.shape, a.grad_output << ": gradient has shape "
                                                  << (a.batch_first ? swap_first_axes(g) : g).shape_string()
                                                  << ", expected the output's shape "
                                                  << (a.batch_first ? swap_first_axes(y) : y).shape_string());
    RnnParams<float> grads(cfg);
    Tensor<float> dx;
    RnnState<float> dinit;
    rnn_backward(dx, dinit, grads, cache, params, g, nullptr);
    for (const auto& [name, t] : grads.named()) grad_out[name] = *t;
    grad_out["input"] = a.batch_first ? swap_first_axes(dx) : dx;
    grad_out["h0"] = dinit.h;
    if (cell == CellKind::lstm) grad_out["c0"] = dinit.c;
  }
  // Everything is computed before anything is written: an error leaves no partial results.
  save_npy(a.out, a.batch_first ? swap_first_axes(y) : y);
  if (!a.hn.empty()) save_npy(a.hn, fin.h);
  if (!a.cn.empty()) save_npy(a.cn, fin.c);
  if (!a.grads.empty()) save_safetensors(a.grads, grad_out);
}

}  // namespace

void add_run_rnn(CLI::App& app, Action& action) {
  auto args = std::make_shared<RunRnnArgs>();
  CLI::App* c = app.add_subcommand(
      "run-rnn",
      "Run a PyTorch nn.RNN/nn.LSTM/nn.GRU state_dict (safetensors) on a .npy input. Layers, sizes "
      "and direction are inferred from the weights; shapes follow PyTorch: input (T,B,I), states "
      "(layers*directions,B,H).");
  c->add_option("--cell", args->cell, "Cell type")
      ->required()
      ->check(CLI::IsMember({"lstm", "gru", "rnn_tanh", "rnn_relu", "rnn_sigmoid"}));
  c->add_option("--model", args->model, "state_dict as safetensors (weight_ih_l0, ...)")
      ->required();
  c->add_option("--input", args->input, "Input .npy, (T,B,I) or (B,T,I) with --batch-first")
      ->required();
  c->add_option("--out", args->out, "Where to write the output Y .npy")->required();
  c->add_option("--h0", args->h0, "Initial hidden state .npy (L*D,B,H)");
  c->add_option("--c0", args->c0, "Initial cell state .npy (L*D,B,H), LSTM only");
  c->add_option("--hn", args->hn, "Where to write the final hidden state .npy");
  c->add_option("--cn", args->cn, "Where to write the final cell state .npy (LSTM)");
  c->add_option("--lengths", args->lengths, "Per-sequence lengths .npy (B,) for a padded batch");
  c->add_flag("--batch-first", args->batch_first, "Input/output are (B,T,F) instead of (T,B,F)");
  c->add_option("--gru-convention", args->gru_convention,
                "GRU candidate: reset_after (PyTorch) or reset_before (Cho 2014)")
      ->check(CLI::IsMember({"reset_after", "reset_before"}));
  c->add_option("--grad-output", args->grad_output,
                "G .npy (shape of Y): run BPTT for the loss sum(Y * G)");
  c->add_option("--grads", args->grads,
                "Where to write the gradients (weights by name, input, h0, c0) as safetensors");
  c->callback([args, &action] {
    const bool lstm = args->cell == "lstm";
    check_usage(args->c0.empty() || lstm, "--c0 is only for --cell lstm, not " + args->cell);
    check_usage(args->cn.empty() || lstm, "--cn is only for --cell lstm, not " + args->cell);
    check_usage(args->grads.empty() == args->grad_output.empty(),
                "--grad-output and --grads go together (the gradient of sum(Y * G) is written to "
                "--grads)");
    action = [args] { run(*args); };
  });
}

}  // namespace recur::cli
