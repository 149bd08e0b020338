// The options every training command shares (the recurrent network, the optimizer and its
// schedule), declared once so that each command spells and documents them the same way. Each
// command adds its own (data, sizes of its own parts, intervals) beside them.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "recur/layers/rnn.h"
#include "recur/train/nan_guard.h"
#include "recur/train/optimizer.h"

namespace recur::cli {

struct NetworkOptions {
  std::string cell = "lstm", init = "uniform";
  int64_t hidden = 256;
  int layers = 1;
  double dropout = 0;
  double leak = 1.0;  // simple RNN: leaky units / residual recurrence
  bool learn_leak = false, residual = false;
  bool layer_norm = false;  // LSTM, GRU
  std::string rnn = {};  // the stack spec (recur/layers/rnn_spec.h); when set, the shorthands are unused
};

struct OptimizerOptions {
  std::string kind = "adam", schedule = "constant";
  double lr = 2e-3, lr_min = 0.1, clip = 5.0, weight_decay = 0, momentum = 0;
  GuardSettings guard;
};

// --rnn SPEC, or its shorthands --cell --hidden --layers --dropout --leak --learn-leak
// --residual-recurrence --layer-norm; and --init unless with_init is false (the defaults are the
// struct's values). A command whose direction flag (--unidirectional) conflicts with --rnn excludes
// it itself.
void add_network_options(CLI::App* c, NetworkOptions& n, bool with_init = true);
// --optimizer --lr --lr-schedule --lr-min --clip --weight-decay --momentum, and the guard's
void add_optimizer_options(CLI::App* c, OptimizerOptions& o);
// --on-nan stop|skip, --diverge-ratio and --patience (recur/train/nan_guard.h)
void add_guard_options(CLI::App* c, GuardSettings& guard);

// --seed --threads --log-every --resume of an epoch trainer.
void add_run_options(CLI::App* c, uint64_t& seed, int& threads, int64_t& log_every,
                     std::string& resume);

// --precision fp32|bf16: the recurrent layers' products in float or in bf16 mixed precision.
void add_precision_option(CLI::App* c, Precision& precision);

// Into the library's configurations. input_size is left to the caller, and so is the direction
// unless the spec (--rnn) gives it.
void apply(const NetworkOptions& n, RnnConfig& rnn, RecurrentInit* init);
void apply(const OptimizerOptions& o, OptimizerConfig& opt, bool& cosine, double& lr_min,
           double& clip);
// Into a trainer's configuration: its optimizer, cosine_schedule, lr_min_factor, clip and guard.
template <class TrainConfig>
void apply(const OptimizerOptions& o, TrainConfig& cfg) {
  apply(o, cfg.optimizer, cfg.cosine_schedule, cfg.lr_min_factor, cfg.clip);
  cfg.guard = o.guard;
}

}  // namespace recur::cli
