#include "train_options.h"

#include <unistd.h>

#include <cstdio>

#include "commands.h"
#include "interrupt.h"
#include "recur/core/gemm.h"
#include "recur/layers/rnn_spec.h"

namespace recur::cli {

void add_network_options(CLI::App* c, NetworkOptions& n, bool with_init) {
  c->add_option("--cell", n.cell, "Recurrent cell")
      ->capture_default_str()
      ->check(CLI::IsMember({"lstm", "gru", "rnn_tanh", "rnn_relu", "rnn_sigmoid", "rnn_linear"}));
  c->add_option("--leak", n.leak, "Simple RNN: leaky units h = (1-a) h_prev + a f(z), a in (0, 1]")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 1.0));
  c->add_flag("--learn-leak", n.learn_leak, "Simple RNN: learn a per unit, starting at --leak (< 1)");
  c->add_flag("--residual-recurrence", n.residual,
              "Simple RNN: residual recurrence h = h_prev + a f(z), a = --leak (docs/rnn-spec.md)");
  c->add_flag("--layer-norm", n.layer_norm, "Layer-normalise every gate's pre-activation (and the LSTM's cell)");
  c->add_option("--hidden", n.hidden, "Hidden size (per direction)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--layers", n.layers, "Stacked layers")->capture_default_str()->check(Positive);
  auto* dropout = c->add_option("--dropout", n.dropout, "Dropout between layers")
                      ->capture_default_str()
                      ->check(CLI::Range(0.0, 0.95));
  auto* spec = c->add_option(
      "--rnn", n.rnn,
      "The recurrent stack as one spec, e.g. 'lstm:256,peephole;lstm:256', 'gru:128,reset_before,"
      "bi=sum' or 'lstm:256;clockwork:256,periods=1/2/4/8': layers separated by ';' (they may "
      "differ), kind:hidden (rnn_tanh rnn_relu rnn_sigmoid rnn_linear lstm gru clockwork skip deep) then "
      "options (peephole coupled reset_before leak=A[/B/...] learn_leak residual[=A] ln dropout=P bi "
      "bi=sum periods=P/P delay=D no_short depth=K; docs/rnn-spec.md). Replaces --cell --hidden "
      "--layers --dropout --leak --learn-leak --residual-recurrence --layer-norm");
  // Checked here, before any work starts.
  spec->check(CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          rnn_config_from_spec(parse_rnn_spec(text));
        } catch (const recur::Error& e) {
          return e.what();
        }
        return "";
      },
      "SPEC"));
  for (const char* name : {"--cell", "--hidden", "--layers", "--leak", "--learn-leak",
                           "--residual-recurrence", "--layer-norm"})
    spec->excludes(c->get_option(name));
  spec->excludes(dropout);
  if (!with_init) return;
  c->add_option("--init", n.init, "Recurrent weights: uniform (PyTorch), orthogonal, identity (IRNN)")
      ->capture_default_str()
      ->check(CLI::IsMember({"uniform", "orthogonal", "identity"}));
}

void add_unidirectional_option(CLI::App* c, NetworkOptions& n, const std::string& help) {
  c->add_flag("--unidirectional", n.unidirectional, help);
  c->get_option("--rnn")->excludes("--unidirectional");
}

namespace {

// --optimizer --lr --lr-schedule --lr-min --clip --weight-decay --momentum, and the guard's.
void add_optimizer_options(CLI::App* c, TrainSettings& t) {
  OptimizerConfig& o = t.optimizer;
  c->add_option_function<std::string>(
       "--optimizer", [&o](const std::string& name) { o.kind = parse_optimizer_kind(name); },
       "sgd, adam or adamw")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}))
      ->default_str(optimizer_kind_name(o.kind));
  c->add_option("--lr", o.lr, "Learning rate")->capture_default_str()->check(Positive);
  bool& cosine = t.cosine_schedule;
  c->add_option_function<std::string>(
       "--lr-schedule", [&cosine](const std::string& name) { cosine = name == "cosine"; },
       "constant, or cosine decay to lr * --lr-min")
      ->check(CLI::IsMember({"constant", "cosine"}))
      ->default_str(cosine ? "cosine" : "constant");
  c->add_option("--lr-min", t.lr_min_factor, "Cosine schedule: final lr as a fraction of --lr")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  c->add_option("--clip", t.clip, "Clip gradients to this global norm (0: off)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--weight-decay", o.weight_decay, "L2 weight decay (decoupled for adamw)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 0.999));
  add_guard_options(c, t.guard);
}

}  // namespace

void add_train_settings(CLI::App* c, TrainSettings& t, int& threads, TrainSettings::Length length) {
  t.optimizer.kind = OptimizerKind::kAdam;
  t.optimizer.lr = 2e-3;
  c->add_option("--out", t.out_path, "Model file to write (.safetensors)")->required();
  c->add_option("--batch", t.batch,
                "Examples per update (per rank under mpirun; train-lm: parallel streams)")
      ->capture_default_str()
      ->check(Positive);
  if (length == TrainSettings::Length::epochs)
    c->add_option("--epochs", t.epochs, "Passes over the training data")
        ->capture_default_str()
        ->check(Positive);
  add_optimizer_options(c, t);
  c->add_option("--seed", t.seed, "Random seed (initialisation, shuffling, dropout, sampling)")
      ->capture_default_str();
  add_threads_option(c, threads);
  c->add_option("--log-every", t.log_every, "Metrics/progress interval (steps)")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--resume", t.resume_path, "Continue from this checkpoint");
  add_precision_option(c, t.precision);
}

void add_guard_options(CLI::App* c, GuardSettings& guard) {
  c->add_option("--diverge-ratio", guard.diverge_ratio,
                "Stop when a step's loss exceeds this many times the loss of a blind guess (ln of "
                "the classes; 1 for forecasts): a diverging run; 0: off")
      ->capture_default_str()
      ->check(NonNegative);
  OnNan& on_nan = guard.on_nan;
  c->add_option_function<std::string>(
       "--on-nan", [&on_nan](const std::string& name) { on_nan = parse_on_nan(name); },
       "A NaN or Inf in a step's loss or gradients: stop (name the step and the tensor, keep the "
       "last checkpoint), or skip that step (10 in a row stop the run)")
      ->check(CLI::IsMember({"stop", "skip"}))
      ->default_str("stop");
  c->add_option("--patience", guard.patience,
                "Early stopping: stop after this many validations in a row without a better score "
                "(a lower validation loss; train-tree: a higher accuracy) and write the weights "
                "that validated best; 0: off")
      ->capture_default_str()
      ->check(NonNegative);
}

void add_precision_option(CLI::App* c, Precision& precision) {
  c->add_option_function<std::string>(
       "--precision", [&precision](const std::string& name) { precision = parse_precision(name); },
       "fp32, or bf16: the recurrent layers' products on bfloat16 operands with float "
       "accumulation (weights and optimiser state stay float)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->default_str("fp32");
}

void apply(const NetworkOptions& n, RnnConfig& rnn, RecurrentInit* init) {
  if (init) *init = parse_recurrent_init(n.init);
  if (!n.rnn.empty()) {
    rnn = rnn_config_from_spec(parse_rnn_spec(n.rnn), rnn.input_size);
    return;
  }
  rnn.cell = parse_cell(n.cell);
  rnn.hidden_size = n.hidden;
  rnn.num_layers = n.layers;
  rnn.dropout = n.dropout;
  rnn.leak = n.leak;
  rnn.learn_leak = n.learn_leak;
  rnn.residual = n.residual;
  rnn.layer_norm = n.layer_norm;
}

void start_run(TrainSettings& t, int threads) {
  t.progress_bar = isatty(fileno(stderr));
  t.stop = stop_on_interrupt();
  set_num_threads(threads);
}

void print_run_files(const TrainSettings& t, const std::string& name, const std::string& file) {
  const std::string own = name.empty() ? "" : name + ": " + file + "  ";
  std::printf("model: %s  metrics: %s  plot: %s  %scheckpoint: %s\n", t.out_path.c_str(),
              t.metrics_path().c_str(), t.plot_path().c_str(), own.c_str(),
              t.checkpoint_path().c_str());
}

}  // namespace recur::cli
