// ForecasterModel: a trained Forecaster with what it needs to read a CSV and answer in the data's
// units (the columns, the window, the z-score normalisation fitted on the training part, the CSV
// query it was trained on) and the linear AR baseline fitted on the same training windows. Saved as
// safetensors with task = "forecast": the network's tensors under their own names, the AR as
// "ar.weight" (Q,P) and "ar.bias" (Q) (float32, which is also what the trainer evaluates, so a
// saved model reproduces its numbers), the rest in __metadata__.
//
// Evaluation: every forecaster (the network, persistence, seasonal naive when a period is set,
// linear AR) on the origins of one part, in the data's units; RMSE and MAE per horizon step and
// over all steps (RMSE "all" = sqrt of the mean squared error over every origin and step); the
// table; the chart of the truth against the 1-step-ahead and H-step-ahead forecasts.
//
// Key: B = origins, W = window, I = input columns, H = horizon, K = target columns,
//      P = W*I (AR features), Q = H*K (AR outputs).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recur/data/csv.h"
#include "recur/data/time_series.h"
#include "recur/models/forecast_baselines.h"
#include "recur/models/forecaster.h"

namespace recur {

struct ForecasterModel {
  // The CSV columns read: the I inputs first, then the targets that are not inputs.
  std::vector<std::string> columns;
  int64_t input_count = 0;       // I
  std::vector<int64_t> targets;  // K indices into columns (recursive: all < I)
  int64_t window = 0;            // W
  int64_t season = 0;            // seasonal-naive period; 0: no seasonal baseline
  // The CSV query it was trained on.
  std::string group_by, where_column, where_value;
  ZScore norm;          // per column, from the training part
  double ar_ridge = 0;  // the AR's relative ridge
  LinearAr ar;          // on normalised windows: (B,P) -> (B,Q)
  Forecaster<float> net;

  int64_t horizon() const { return net.config.horizon; }
  std::vector<int64_t> inputs() const;  // 0..I-1
  CsvQuery query() const;               // columns + group_by + where
  std::string network_name() const;     // "lstm direct", "gru recursive residual", ...
};

// The column list and target indices for `inputs` and `targets` (names); throws on repeats.
void set_forecaster_columns(ForecasterModel& m, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& targets);

void save_forecaster_model(const std::string& path, const ForecasterModel& m,
                           const std::map<std::string, std::string>& extra = {});
ForecasterModel load_forecaster_model(const std::string& path);

// Throws unless every series has room for at least one origin of `part`, naming the series and
// the rows it would need. `source` names the data in the message.
void check_forecast_origins(const ForecasterModel& m, const std::vector<CsvSeries>& data,
                            SplitPart part, const std::string& source);

// The training graph's tensors for `origins` (normalised), as forecaster_batch takes them.
void forecaster_training_tensors(const ForecasterModel& m, const std::vector<CsvSeries>& data,
                                 const std::vector<Origin>& origins, Tensor<float>* x,
                                 Tensor<float>* y);

// Fits m.ar on the training origins of `data` (ridge least squares on the normalised windows) and
// rounds it to float32, the precision it is saved in.
void fit_forecaster_ar(ForecasterModel& m, const std::vector<CsvSeries>& data, double ridge);

struct ForecastSet {
  std::vector<Origin> origins;
  Tensor<double> truth;                   // (B,H,K), data units
  std::vector<std::string> names;         // the network first, then the baselines
  std::vector<Tensor<double>> forecasts;  // (B,H,K) each, data units
};

// The network's forecasts from windows x (W,B,I), normalised as in training: (B,H,K) in the data's
// units.
Tensor<double> network_forecast(const ForecasterModel& m, const Tensor<float>& x);
// The network's forecast after the W rows `window` (W,I) of the input columns, in the data's units
// (as a server receives them): (H,K) in the data's units. Throws unless window is (W,I).
Tensor<double> forecast_window(const ForecasterModel& m, const Tensor<double>& window);

// Every forecaster on the origins of `part`, the network in batches of `batch` origins.
ForecastSet forecast_part(const ForecasterModel& m, const std::vector<CsvSeries>& data,
                          SplitPart part, int64_t batch = 256);

struct ForecastScores {
  Tensor<double> rmse, mae;               // (H,K)
  std::vector<double> rmse_all, mae_all;  // (K) over every step
};
ForecastScores score_forecast(const Tensor<double>& forecast, const Tensor<double>& truth);

// The tables (per target: RMSE, then MAE; a row per forecaster, a column per step and "all"),
// headed by one line saying which part, how many forecasts, from how many series.
std::string forecast_report(const ForecasterModel& m, const ForecastSet& s, SplitPart part);

// An SVG line chart of the first series' first target over the part: the truth, every
// forecaster's 1-step-ahead forecasts and, when H > 1, the network's and the AR's H-step-ahead
// ones.
std::string forecast_svg(const ForecasterModel& m, const std::vector<CsvSeries>& data,
                         const ForecastSet& s, const std::string& title);

}  // namespace recur
