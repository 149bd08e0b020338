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
};

struct OptimizerOptions {
  std::string kind = "adam", schedule = "constant";
  double lr = 2e-3, lr_min = 0.1, clip = 5.0, weight_decay = 0, momentum = 0;
  OnNan on_nan = OnNan::stop;
};

// --cell --hidden --layers --dropout, and --init unless with_init is false (the defaults are the
// struct's values).
void add_network_options(CLI::App* c, NetworkOptions& n, bool with_init = true);
// --optimizer --lr --lr-schedule --lr-min --clip --weight-decay --momentum --on-nan
void add_optimizer_options(CLI::App* c, OptimizerOptions& o);
// --on-nan stop|skip (recur/train/nan_guard.h)
void add_on_nan_option(CLI::App* c, OnNan& on_nan);

// --seed --threads --log-every --resume of an epoch trainer.
void add_run_options(CLI::App* c, uint64_t& seed, int& threads, int64_t& log_every,
                     std::string& resume);

// --precision fp32|bf16: the recurrent layers' products in float or in bf16 mixed precision.
void add_precision_option(CLI::App* c, Precision& precision);

// Into the library's configurations (input_size and direction are left to the caller).
void apply(const NetworkOptions& n, RnnConfig& rnn, RecurrentInit* init);
void apply(const OptimizerOptions& o, OptimizerConfig& opt, bool& cosine, double& lr_min,
           double& clip);
// Into a trainer's configuration: its optimizer, cosine_schedule, lr_min_factor, clip and on_nan.
template <class TrainConfig>
void apply(const OptimizerOptions& o, TrainConfig& cfg) {
  apply(o, cfg.optimizer, cfg.cosine_schedule, cfg.lr_min_factor, cfg.clip);
  cfg.on_nan = o.on_nan;
}

}  // namespace recur::cli
