// Fitting a Jordan network (recur/layers/jordan.h) to a series with teacher forcing, and measuring
// it both ways: teacher-forced (each step fed the true previous value) and free running (fed its
// own outputs), the train/test mismatch the seeds describe.
#pragma once

#include <cstdint>
#include <vector>

#include "recur/layers/jordan.h"

namespace recur {

struct JordanSeriesOptions {
  int64_t hidden = 32;
  int64_t steps = 3000;  // Adam updates, each on the whole training stretch
  double lr = 1e-2;
  uint64_t seed = 1;
};

struct JordanSeriesResult {
  double teacher_nrmse = 0;            // one step ahead on the held-out stretch, fed the truth
  std::vector<double> free_nrmse;      // free running from each held-out start: NRMSE at step h
  double seconds = 0;
};

// series: one value per step; the first `train` values fit the network (input: a constant 1,
// output: the next value, fed the previous one), the rest are held out. Free running starts
// `starts` times, evenly over the held-out stretch, each for `horizon` steps.
JordanSeriesResult fit_jordan_series(JordanParams<double>& p, const std::vector<double>& series,
                                     int64_t train, int64_t horizon, int64_t starts,
                                     const JordanSeriesOptions& o);

}  // namespace recur
