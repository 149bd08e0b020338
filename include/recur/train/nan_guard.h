// NaN/Inf guard: every training step checks its loss and every gradient after backward (and after
// the data-parallel reduction, so all ranks decide alike), before clipping and the optimizer, and
// does what the user chose (`--on-nan`):
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
#include <vector>

#include "recur/train/param.h"

namespace recur {

enum class OnNan { stop, skip };

OnNan parse_on_nan(const std::string& name);  // "stop" | "skip"

// The first gradient holding a NaN or Inf, described ("the gradient of 'w' holds 1 NaN and 0 Inf
// of 12 values"), or "" when every gradient is finite.
std::string describe_non_finite_gradient(const std::vector<Param<float>>& params);

class NanGuard {
 public:
  explicit NanGuard(OnNan policy = OnNan::stop, int64_t max_consecutive = 10)
      : policy_(policy), max_consecutive_(max_consecutive) {}

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
  int64_t skipped_ = 0, in_a_row_ = 0;
  std::string message_;
};

}  // namespace recur
