// Forecasting windows over time series: the chronological split, z-score normalisation fitted on
// the training part, forecast origins, and the (normalised) values around them.
//
// Key: N = rows of a series, C = its columns, W = window (past rows read), H = horizon (future rows
// predicted), B = origins in a batch, S = steps gathered.
//
// Split, per series, deterministic: train = rows [0, floor(0.7 N)), validation =
// [floor(0.7 N), floor(0.85 N)), test = [floor(0.85 N), N): the first 70%, the next 15%, the last
// 15% of the series in time.
// Origin: t is the last observed row; a forecaster reads rows t-W+1..t and predicts t+1..t+H. An
// origin belongs to a part when all of its targets t+1..t+H lie in that part, so every target value
// is scored in one part only; its window may reach back into the earlier parts, which are history
// by then. Every origin has t >= W-1.
// Normalisation: z = (v - mean_c) / std_c, with the mean and the population standard deviation of
// column c over the training rows of every series together; a column constant there gets std 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recur/core/tensor.h"
#include "recur/data/csv.h"

namespace recur {

struct ChronoSplit {
  int64_t train_end = 0, valid_end = 0, rows = 0;
};
ChronoSplit chronological_split(int64_t rows);

enum class SplitPart { train, valid, test, all };
SplitPart parse_split_part(const std::string& name);  // "train", "valid", "test", "all"
const char* split_part_name(SplitPart part);

struct Origin {
  int64_t series = 0;  // index into the data
  int64_t t = 0;       // last observed row
};

// The origins of `part` (all: every origin of the series), series by series, t increasing.
std::vector<Origin> forecast_origins(const std::vector<CsvSeries>& data, SplitPart part,
                                     int64_t window, int64_t horizon);

struct ZScore {
  std::vector<double> mean, std;  // (C)
};
// Fitted over the training rows of every series; throws if there are none.
ZScore fit_zscore(const std::vector<CsvSeries>& data);

// x (S,B,|cols|): column cols[j] at row t + offset + s of each origin's series, for s in [0, S),
// normalised with `z` (raw values when z is null). Every row must exist (checked).
template <class T>
Tensor<T> gather_steps(const std::vector<CsvSeries>& data, const std::vector<Origin>& origins,
                       int64_t offset, int64_t steps, const std::vector<int64_t>& cols,
                       const ZScore* z);

}  // namespace recur
