// The loop the epoch trainers share (classifier, tagger, conditional LM, seq2seq): length-pooled
// batches reshuffled every epoch, the learning-rate schedule, clipping and the optimizer step,
// progress and metrics, validation and an atomic checkpoint after every epoch, a clean stop on
// request (checkpoint, then return), and --resume that continues bit for bit (model, optimizer,
// RNG, step and the running interval sums are all in the checkpoint; the batch plan is a function
// of seed and epoch). The task supplies what differs: one batch's forward and backward, and
// validation.
//
// With guard.patience > 0 (early stopping, recur/train/early_stopping.h) the loop keeps the weights
// of the lowest validation loss, stops after `patience` epochs without a lower one, and at the end
// loads the best weights back and validates them once more (so the task's results describe them).
//
// Data parallel (recur/dist/data_parallel.h, under `mpirun -np N`): `batch` is per rank; the plan
// is made for batches of N*batch and rank r trains on its share of each (the loss weighted as in
// one process with the whole batch), the gradients are averaged, and rank 0 alone prints and
// writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "recur/core/rng.h"
#include "recur/dist/data_parallel.h"
#include "recur/train/nan_guard.h"
#include "recur/train/optimizer.h"
#include "recur/train/param.h"
#include "recur/train/run_files.h"
#include "recur/train/train_settings.h"

namespace recur {

struct EpochLoopSettings {
  std::string command;           // e.g. "train-classifier": names the run in its messages
  TrainSettings train;           // the trainer's shared settings (batch, epochs, lr, files, ...)
  std::vector<int64_t> lengths;  // of the training examples (batching)
  LossBaseline baseline;         // the task's blind-guess loss, for the divergence check
  std::string plot_title;
  std::map<std::string, std::string> settings;  // must match on resume
  const char* items = "ex";          // what EpochStep::items counts ("ex", "tok", "texts")
  bool items_are_tokens = false;     // metrics: record them as tokens
  const char* accuracy = "accuracy";  // the progress line's name for EpochStep's correct/seen
};

// One training batch, as the task reports it.
struct EpochStep {
  double loss_nats = 0;
  int64_t items = 0;               // examples or tokens in the batch
  double weight = 0;               // what loss_nats is the mean over (0: items)
  int64_t correct = 0, seen = 0;   // for a running accuracy (seen = 0: none)
};

struct EpochValidation {
  double loss_nats = 0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  std::string summary;  // printed after "epoch E (step S): validation "
};

struct EpochTask {
  // Zero the gradients, forward and backward of the examples `batch` (indices), with `rng` for
  // dropout; the loop then clips and steps.
  std::function<EpochStep(const std::vector<size_t>& batch, Rng& rng)> train_batch;
  // Optional: called before each training batch with its 0-based step and the run's total steps
  // (for schedules that depend on progress, e.g. scheduled sampling).
  std::function<void(int64_t step, int64_t total)> before_batch;
  // Called on every rank together: a task may score only its share of the validation set
  // (dp.share) and add the ranks' sums (dp.sum); every rank must return the whole set's result.
  std::function<EpochValidation(dist::DataParallel& dp)> validate;
  std::function<std::map<std::string, Tensor<float>>()> model_state;
  std::function<void(const std::map<std::string, Tensor<float>>&, const std::string&)> load_model_state;
};

struct EpochLoopResult {
  int64_t steps = 0, epochs = 0, per_epoch = 0;
  bool interrupted = false;
  // --patience (recur/train/early_stopping.h): the run stopped before its last epoch; the step
  // of the best validation, whose weights the model holds at the end (-1: off or none finite).
  bool stopped_early = false;
  int64_t best_step = -1;
  int64_t skipped = 0;  // steps skipped (--on-nan skip)
  double seconds = 0;
};

EpochLoopResult run_epoch_loop(const EpochLoopSettings& s, const EpochTask& task,
                               std::vector<Param<float>>& params, Optimizer<float>& opt, Rng& rng,
                               std::ostream& log);

// The network an epoch trainer trains and what training needs beside it: the gradients (a network
// of the same configuration), the (weight, gradient) pairs and the optimizer.
template <class Net>
struct EpochTrainee {
  Net& net;
  Net grads;
  std::vector<Param<float>> params;
  Optimizer<float> opt;
  EpochTrainee(Net& n, const OptimizerConfig& o)
      : net(n), grads(n.config), params(param_list(n, grads)), opt(o) {}
};

// run_epoch_loop on the trainee (its weights are the task's model state), the run's counts put in
// `res` (steps_done, epochs_done, seconds, interrupted). True when this process goes on to report
// and write the model: the run was not interrupted, and this is rank 0.
template <class Net, class Result>
bool run_epochs(const EpochLoopSettings& s, EpochTask task, EpochTrainee<Net>& t, Rng& rng,
                std::ostream& log, Result& res) {
  task.model_state = [&t] { return t.net.state_dict(); };
  task.load_model_state = [&t](const std::map<std::string, Tensor<float>>& w,
                               const std::string& src) { t.net.load_state_dict(w, src); };
  const EpochLoopResult run = run_epoch_loop(s, task, t.params, t.opt, rng, log);
  res.steps_done = run.steps;
  res.epochs_done = run.epochs;
  res.seconds = run.seconds;
  res.interrupted = run.interrupted;
  return !res.interrupted && dist::world().rank() == 0;
}

}  // namespace recur
