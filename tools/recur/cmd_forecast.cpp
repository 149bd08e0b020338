// `recur train-forecaster` and `recur forecast`: time-series forecasting from CSV columns (N -> 1
// and N -> M), against persistence, seasonal naive and linear AR baselines on the same split.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "recur/core/gemm.h"
#include "recur/io/file.h"
#include "recur/train/forecaster_trainer.h"
#include "train_options.h"

namespace recur::cli {
namespace {

struct TrainForecasterArgs {
  ForecasterTrainConfig cfg;
  std::string targets, inputs, strategy = "direct", loss = "mse";
  NetworkOptions net;
  int threads = 0;
};

void run_train(TrainForecasterArgs a) {
  a.cfg.targets = split_names(a.targets, "--target");
  if (!a.inputs.empty()) a.cfg.inputs = split_names(a.inputs, "--input-columns");
  a.cfg.strategy = parse_forecast_strategy(a.strategy);
  a.cfg.loss = parse_regression_loss(a.loss);
  apply(a.net, a.cfg.rnn, &a.cfg.init);
  start_run(a.cfg.train, a.threads);
  const ForecasterTrainResult r = train_forecaster(a.cfg, std::cerr);
  if (r.interrupted) std::exit(130);
  std::printf("%s", r.report.c_str());
  std::printf("validation RMSE of %s over all steps:",
              r.model.columns[size_t(r.model.targets.front())].c_str());
  for (size_t i = 0; i < r.valid.names.size(); ++i)
    std::printf("%s %s %.4f", i ? "," : "", r.valid.names[i].c_str(),
                score_forecast(r.valid.forecasts[i], r.valid.truth).rmse_all[0]);
  std::printf("\n");
  print_epoch_run(r, a.cfg.train, "forecast", a.cfg.forecast_path());
}

struct ForecastArgs {
  std::string model, csv, group_by, where, split = "test", svg;
  int64_t batch = 256;
  int threads = 0;
};

void run_forecast(const ForecastArgs& a) {
  set_num_threads(a.threads);
  ForecasterModel m = load_forecaster_model(a.model);
  if (!a.group_by.empty()) m.group_by = a.group_by;
  if (!a.where.empty()) std::tie(m.where_column, m.where_value) = parse_where(a.where);
  const std::vector<CsvSeries> data = read_csv_series(a.csv, m.query());
  const SplitPart part = parse_split_part(a.split);
  check_forecast_origins(m, data, part, a.csv);
  const ForecastSet s = forecast_part(m, data, part, a.batch);
  std::printf("%s", forecast_report(m, s, part).c_str());
  if (!a.svg.empty()) {
    write_file_atomic(a.svg, forecast_svg(m, data, s,
                                          "recur forecast: " + m.network_name() + " on " + a.csv +
                                              " (" + a.split + ")"));
    std::printf("forecast chart: %s\n", a.svg.c_str());
  }
}

}  // namespace

void add_forecast(CLI::App& app, Action& action) {
  auto a = std::make_shared<TrainForecasterArgs>();
  a->net.hidden = 64;
  CLI::App* c = app.add_subcommand(
      "train-forecaster",
      "Train a recurrent forecaster on columns of a CSV time series (rows in time order): the "
      "first "
      "70% of each series trains, the next 15% validates, the last 15% tests. Prints RMSE and MAE "
      "per horizon step on the test part beside persistence, seasonal naive (--season) and a "
      "linear AR fitted on the same windows. Writes the model, <out>.metrics.jsonl, <out>.svg, "
      "<out>.forecast.svg and <out>.ckpt.safetensors; Ctrl-C writes the checkpoint and stops.");
  c->add_option("--csv", a->cfg.csv_path, "CSV file with a header row")->required();
  c->add_option("--target", a->targets, "Column(s) to forecast, comma-separated")->required();
  c->add_option("--input-columns", a->inputs,
                "Columns the network reads, comma-separated (default: the targets)");
  c->add_option("--group-by", a->cfg.group_by, "One series per value of this column (e.g. symbol)");
  c->add_option("--where", a->cfg.where, "Keep only rows with COLUMN=VALUE (e.g. symbol=MSFT)");
  c->add_option("--window", a->cfg.window, "Past rows read per forecast")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--horizon", a->cfg.horizon, "Future rows forecast")
      ->capture_default_str()
      ->check(Positive);
  c->add_option("--season", a->cfg.season,
                "Seasonal-naive baseline period in rows (365: same day last year; 0: none)")
      ->capture_default_str()
      ->check(NonNegative);
  c->add_option("--strategy", a->strategy,
                "direct (all horizon steps at once) or recursive (one step, fed its own forecasts)")
      ->capture_default_str()
      ->check(CLI::IsMember({"direct", "recursive"}));
  c->add_option("--loss", a->loss, "mse or mae")
      ->capture_default_str()
      ->check(CLI::IsMember({"mse", "mae"}));
  c->add_flag(
      "--residual", a->cfg.residual,
      "Forecast the change from the last observed value (the network starts as persistence)");
  add_network_options(c, a->net);
  c->add_option("--ar-ridge", a->cfg.ar_ridge,
                "Linear AR baseline: ridge, relative to the mean eigenvalue")
      ->capture_default_str()
      ->check(NonNegative);
  add_train_settings(c, a->cfg.train, a->threads);
  c->callback([a, &action] { action = [a] { run_train(*a); }; });

  auto f = std::make_shared<ForecastArgs>();
  CLI::App* fc = app.add_subcommand(
      "forecast",
      "Evaluate a trained forecaster on a CSV with the same columns: RMSE and MAE per horizon step "
      "of the network, persistence, seasonal naive and linear AR on one part of the split.");
  fc->add_option("--model", f->model, "Forecaster written by train-forecaster")->required();
  fc->add_option("--csv", f->csv, "CSV file with the model's columns")->required();
  fc->add_option("--group-by", f->group_by,
                 "One series per value of this column (default: the model's)");
  fc->add_option("--where", f->where, "Keep only rows with COLUMN=VALUE (default: the model's)");
  fc->add_option("--split", f->split, "train, valid, test (the last 15%) or all")
      ->capture_default_str()
      ->check(CLI::IsMember({"train", "valid", "test", "all"}));
  fc->add_option("--svg", f->svg, "Write the forecast chart here");
  fc->add_option("--batch", f->batch, "Windows per forward pass")
      ->capture_default_str()
      ->check(Positive);
  add_threads_option(fc, f->threads);
  fc->callback([f, &action] { action = [f] { run_forecast(*f); }; });
}

}  // namespace recur::cli
