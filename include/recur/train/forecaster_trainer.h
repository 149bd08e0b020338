// Forecaster training on a CSV time series: the chronological split and the normalisation of
// data/time_series.h, minibatches of forecast origins reshuffled every epoch, validation after
// every epoch (the training loss, and the RMSE / MAE of the real forecasts in the data's units),
// metrics as JSON lines and a plot, atomic checkpoints that resume exactly, a clean stop on request
// (Ctrl-C), and at the end the test part: the network against persistence, seasonal naive (with a
// period) and the linear AR fitted on the same training windows, as a table and a chart.
//
// Metrics (<stem>.metrics.jsonl, io/metrics.h): "train" records every `log_every` updates and "val"
// records every epoch. Their `loss_nats` field, where every trainer writes its loss, holds the
// regression loss here (MSE or MAE of the normalised values), not a cross-entropy.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "recur/models/forecaster_model.h"
#include "recur/train/train_settings.h"

namespace recur {

struct ForecasterTrainConfig {
  // Data
  std::string csv_path;
  std::vector<std::string> targets;  // columns to forecast (at least one)
  std::vector<std::string> inputs;   // columns read (empty: the targets)
  std::string group_by;              // one series per value of this column
  std::string where;                 // "column=value": keep only those rows ("" = all)
  int64_t window = 30;               // W
  int64_t horizon = 1;               // H
  int64_t season = 0;                // seasonal-naive period (0: no seasonal baseline)
  // Model
  RnnConfig rnn;  // cell, hidden_size, num_layers, dropout (input_size is set from the inputs)
  ForecastStrategy strategy = ForecastStrategy::direct;
  RegressionLoss loss = RegressionLoss::mse;
  bool residual = false;  // forecast the change from the last observed value (models/forecaster.h)
  RecurrentInit init = RecurrentInit::uniform;
  double ar_ridge = 1e-4;  // the linear AR's relative ridge (models/forecast_baselines.h)
  // Optimisation and outputs (recur/train/train_settings.h): the model at train.out_path, its
  // metrics, plots and checkpoint beside it
  TrainSettings train{.epochs = 20, .clip = 1.0};

  void validate() const;
  std::string forecast_path() const;  // <stem>.forecast.svg: the test part's forecasts
};

struct ForecasterTrainResult {
  int64_t steps_done = 0;
  int64_t epochs_done = 0;
  int64_t skipped_steps = 0;  // --on-nan skip
  bool interrupted = false;
  // --patience (recur/train/early_stopping.h): stopped before the last epoch; the step whose
  // weights the model holds (-1: off or no finite validation).
  bool stopped_early = false;
  int64_t best_step = -1;
  double seconds = 0;
  ForecastSet valid;  // every forecaster on the validation part, with the model's final weights
  ForecastSet test;
  std::string report;  // forecast_report of the test part
  ForecasterModel model;
};

ForecasterTrainResult train_forecaster(const ForecasterTrainConfig& cfg, std::ostream& log);

}  // namespace recur
