// The settings every trainer shares (language model, classifier, tagger, conditional LM,
// encoder-decoder, forecaster): the batch and the number of epochs, the optimizer and its
// learning-rate schedule, clipping, the step guard, the precision, the seed, and the run's files
// and controls. Each trainer's configuration holds one as its member `train` and sets its own
// defaults there where they differ; the command-line tool makes the flags of these fields in one
// place (tools/recur/train_options.cpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include "recur/core/gemm.h"
#include "recur/train/nan_guard.h"
#include "recur/train/optimizer.h"
#include "recur/train/run_files.h"

namespace recur {

// The members without other defaults are `= {}`, so that a trainer may set its own defaults with a
// designated initialiser (TrainSettings{.epochs = 5}) without -Wmissing-field-initializers.
struct TrainSettings {
  // How long a run is: `epochs` for the epoch trainers; the language-model trainer counts its run
  // in its own fields instead (steps, fractional epochs or seconds) and leaves epochs at 0.
  enum class Length { epochs, own };

  int64_t batch = 32;   // examples per update, per rank (the language model: parallel streams)
  int64_t epochs = 10;  // passes over the training data
  OptimizerConfig optimizer = {};
  bool cosine_schedule = false;  // cosine decay from optimizer.lr to lr * lr_min_factor
  double lr_min_factor = 0.1;
  double clip = 5.0;                      // global-norm gradient clipping (0: off)
  GuardSettings guard = {};               // NaN/Inf, divergence, patience (recur/train/nan_guard.h)
  Precision precision = Precision::fp32;  // of the RNNs' products in training (recur/core/gemm.h)
  uint64_t seed = 1;                      // initialisation, data order, dropout
  std::string out_path = {};     // the model (.safetensors); metrics, plot and checkpoint beside it
  int64_t log_every = 50;        // progress line and metrics record interval (steps)
  std::string resume_path = {};  // continue from this checkpoint ("": a fresh run)
  bool progress_bar = false;     // redraw one line (a terminal) instead of printing lines
  const std::atomic<bool>* stop = nullptr;  // set (from a signal handler) to stop cleanly

  // Throws recur::Error naming the first bad field (out_path, batch, epochs, clip, log_every,
  // lr_min_factor, then the optimizer's). With Length::own, epochs must be 0 (unused).
  void validate(Length length = Length::epochs) const;

  // Beside the model, its .safetensors extension replaced (recur/train/run_files.h):
  std::string metrics_path() const;     // <stem>.metrics.jsonl
  std::string plot_path() const;        // <stem>.svg
  std::string checkpoint_path() const;  // <stem>.ckpt.safetensors

  // The learning rate of step `step` (0-based) of `total`: optimizer.lr, or with the cosine
  // schedule lr_min + (lr - lr_min) (1 + cos(pi step / total)) / 2. From the step count alone,
  // so a resumed run gets the same rates.
  double lr_at(int64_t step, int64_t total) const;
};

// What every trainer does first, so that a bad setting or an output directory that cannot be made
// fails before any work: the whole configuration checked (Config::validate) and the directory of
// the model (Config::train.out_path) made. Returns `cfg`.
template <class Config>
const Config& prepare_run(const Config& cfg) {
  cfg.validate();
  make_output_directory(cfg.train.out_path);
  return cfg;
}

// Cosine decay from lr to lr * min_factor at `angle` = pi * (the run's progress in [0, 1]).
double cosine_lr(double lr, double min_factor, double angle);

// The settings of the optimisation that a resumed run must share with the run that wrote its
// checkpoint (batch, optimizer, lr, momentum, weight-decay, clip, lr-schedule, seed), by the names
// the checkpoints store them under.
std::map<std::string, std::string> optimisation_settings(const TrainSettings& t);

// The settings a run depends on that the trainers share (checked on --resume): the training
// data's fingerprint, the model's configuration (its metadata joined, rnn_spec aside: it is
// derived from the other keys, and checkpoints predate it) and optimisation_settings. The
// trainer adds its own (vocabulary caps, init, ...).
std::map<std::string, std::string> run_settings(
    const TrainSettings& t, const std::string& data_fingerprint,
    const std::map<std::string, std::string>& model_meta);

}  // namespace recur
