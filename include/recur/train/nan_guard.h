// NaN/Inf and divergence guard: every training step checks its loss and every gradient after
// backward (and after the data-parallel reduction, so all ranks decide alike), before clipping and
// the optimizer, and does what the user chose (`--on-nan`):
//
//   stop  throw recur::Error naming the step and the tensor ("step 12: the gradient of
//         'rnn.weight_hh_l0' holds 3 NaN and 0 Inf of 4096 values"); nothing is stepped and nothing
//         is written, so the last checkpoint on disk stays the last good one.
//   skip  leave the weights and the optimizer state as they were (the step still counts, so a
//         resumed run sees the same data at the same step), say so on the log, and go on; after
//         max_consecutive skipped steps in a row the run stops as with `stop`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "recur/train/param.h"

namespace recur {

enum class OnNan { stop, skip };

OnNan parse_on_nan(const std::string& name);  // "stop" | "skip"

// What every trainer's step guard does (--on-nan, --diverge-ratio). A finite loss above
// diverge_ratio times the task's baseline (the loss of a blind guess: ln(classes) for a softmax,
// 1 for a regression on normalised targets) means the run has diverged: it stops as with
// --on-nan stop, whatever on_nan says, naming the step and the loss. 0 turns that check off.
// patience (--patience) guards against overfitting: early stopping with keep-best on validation
// (recur/train/early_stopping.h); 0: off.
struct GuardSettings {
  OnNan on_nan = OnNan::stop;
  double diverge_ratio = 10.0;
  int64_t patience = 0;
};

// The first gradient holding a NaN or Inf, described ("the gradient of 'w' holds 1 NaN and 0 Inf
// of 12 values"), or "" when every gradient is finite.
std::string describe_non_finite_gradient(const std::vector<Param<float>>& params);

// A task's blind-guess loss and what it is, for the divergence check's message.
struct LossBaseline {
  double loss = 0;
  std::string what;
  // ln k: a softmax's loss when it guesses uniformly over k outcomes (`over` names them).
  static LossBaseline uniform(int64_t k, const std::string& over);
};

class NanGuard {
 public:
  explicit NanGuard(OnNan policy = OnNan::stop, int64_t max_consecutive = 10)
      : policy_(policy), max_consecutive_(max_consecutive) {}
  // With the divergence check against the task's blind-guess loss.
  NanGuard(const GuardSettings& s, LossBaseline baseline, int64_t max_consecutive = 10);

  // True when the step may go on. `step` is the 1-based number of the step being taken; `hint`
  // ends the error message (a remedy to try). False (skip) leaves a line for the log in message().
  bool step_ok(double loss, const std::vector<Param<float>>& params, int64_t step,
               const std::string& hint = "try a lower --lr or --clip");
  const std::string& message() const { return message_; }

  int64_t skipped() const { return skipped_; }  // steps skipped in this run
  // "N steps were skipped (--on-nan skip)" for the end of a run; "" when none was.
  std::string summary() const;

 private:
  OnNan policy_;
  int64_t max_consecutive_;
  double diverge_ratio_ = 0;
  LossBaseline baseline_;
  int64_t skipped_ = 0, in_a_row_ = 0;
  std::string message_;
};

}  // namespace recur
