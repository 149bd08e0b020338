// The options every training command shares (the recurrent network, and the flags of the library's
// TrainSettings: the run's files, batch and epochs, the optimizer and its schedule, the guard,
// seed, threads, precision), declared once so that each command spells and documents them the same
// way. Each command adds its own (data, sizes of its own parts, intervals) beside them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "recur/layers/rnn.h"
#include "recur/train/train_settings.h"

namespace recur::cli {

struct NetworkOptions {
  std::string cell = "lstm", init = "uniform";
  int64_t hidden = 256;
  int layers = 1;
  double dropout = 0;
  double leak = 1.0;  // simple RNN: leaky units / residual recurrence
  bool learn_leak = false, residual = false;
  bool layer_norm = false;  // every engine cell
  std::string rnn = {};  // the stack spec (recur/layers/rnn_spec.h); when set, the shorthands are unused
  bool unidirectional = false;  // --unidirectional, where the network reads both ways by default
};

// --rnn SPEC, or its shorthands --cell --hidden --layers --dropout --leak --learn-leak
// --residual-recurrence --layer-norm; and --init unless with_init is false (the defaults are the
// struct's values). A command whose direction flag (--unidirectional) conflicts with --rnn excludes
// it itself.
void add_network_options(CLI::App* c, NetworkOptions& n, bool with_init = true);
// --unidirectional, for a command whose network reads both ways unless told otherwise (`help` says
// what one direction loses); --rnn excludes it, a spec giving the direction itself. After
// add_network_options.
void add_unidirectional_option(CLI::App* c, NetworkOptions& n, const std::string& help);
// The flags of TrainSettings (recur/train/train_settings.h), bound to `t`, whose values are the
// defaults shown: --out --batch --epochs --optimizer --lr --lr-schedule --lr-min --clip
// --weight-decay --momentum, the guard's, --seed --threads --log-every --resume --precision. The
// commands train with Adam at 2e-3 unless told otherwise (the library's default is SGD at 1e-3), so
// that goes into `t` first. With Length::own the command gives its own length flags, not --epochs.
void add_train_settings(CLI::App* c, TrainSettings& t, int& threads,
                        TrainSettings::Length length = TrainSettings::Length::epochs);
// --on-nan stop|skip, --diverge-ratio and --patience (recur/train/nan_guard.h)
void add_guard_options(CLI::App* c, GuardSettings& guard);
// --precision fp32|bf16: the recurrent layers' products in float or in bf16 mixed precision.
void add_precision_option(CLI::App* c, Precision& precision);

// Before a trainer runs: a progress bar when stderr is a terminal, Ctrl-C and SIGTERM to stop it
// cleanly (it writes a checkpoint and returns), and the CPU threads.
void start_run(TrainSettings& t, int threads);
// The files a run wrote, on one line: "model: M  metrics: X  plot: P  [NAME: F  ]checkpoint: C",
// where NAME and F are a file of the trainer's own (e.g. "confusion"), if any.
void print_run_files(const TrainSettings& t, const std::string& name = "",
                     const std::string& file = "");
// The end of an epoch trainer's report: "trained E epochs (S steps) in T s" from its result, then
// the files line.
template <class Result>
void print_epoch_run(const Result& r, const TrainSettings& t, const std::string& name = "",
                     const std::string& file = "") {
  std::printf("trained %lld epochs (%lld steps) in %.1f s\n", (long long)r.epochs_done,
              (long long)r.steps_done, r.seconds);
  print_run_files(t, name, file);
}

// Into the library's configuration. input_size is left to the caller, and so is the direction
// unless the spec (--rnn) gives it.
void apply(const NetworkOptions& n, RnnConfig& rnn, RecurrentInit* init);

}  // namespace recur::cli
