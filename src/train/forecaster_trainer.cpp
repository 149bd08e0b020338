// Forecaster training: data, the AR baseline, the loop, validation, metrics, plots, checkpoints,
// resume and the test report.
#include "recur/train/forecaster_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <tuple>

#include "recur/core/hash.h"
#include "recur/dist/data_parallel.h"
#include "recur/io/file.h"
#include "recur/io/metrics.h"
#include "recur/io/svg_plot.h"
#include "recur/train/batching.h"
#include "recur/train/checkpoint.h"
#include "recur/train/clip.h"
#include "recur/train/early_stopping.h"
#include "recur/train/nan_guard.h"
#include "recur/train/progress.h"
#include "recur/train/run_files.h"

namespace recur {

void ForecasterTrainConfig::validate() const {
  RECUR_CHECK(!csv_path.empty(), "a CSV file is required (--csv)");
  RECUR_CHECK(!targets.empty(), "a target column is required (--target)");
  RECUR_CHECK(!out_path.empty(), "an output model path is required (--out)");
  RECUR_CHECK(window >= 1 && horizon >= 1, "--window and --horizon must be >= 1");
  RECUR_CHECK(season >= 0, "--season must be >= 0, got " << season);
  RECUR_CHECK(batch > 0 && epochs > 0, "--batch and --epochs must be positive");
  RECUR_CHECK(ar_ridge >= 0 && std::isfinite(ar_ridge),
              "--ar-ridge must be >= 0, got " << ar_ridge);
  RECUR_CHECK(clip >= 0, "--clip must be >= 0, got " << clip);
  RECUR_CHECK(log_every > 0, "--log-every must be positive");
  RECUR_CHECK(lr_min_factor >= 0 && lr_min_factor <= 1, "--lr-min must be in [0, 1]");
  if (!where.empty()) parse_where(where);
  optimizer.validate();
}

std::string ForecasterTrainConfig::metrics_path() const {
  return metrics_path_for(out_path);
}
std::string ForecasterTrainConfig::plot_path() const { return plot_path_for(out_path); }
std::string ForecasterTrainConfig::forecast_path() const {
  return output_stem(out_path) + ".forecast.svg";
}
std::string ForecasterTrainConfig::checkpoint_path() const {
  return checkpoint_path_for(out_path);
}

namespace {

using Clock = std::chrono::steady_clock;

// The training and validation loss against the update count, from the metrics file.
void plot_losses(const std::string& metrics, const std::string& svg, const std::string& title,
                 RegressionLoss loss) {
  PlotSpec spec;
  spec.title = title;
  spec.x_label = "update";
  spec.y_label = std::string(regression_loss_name(loss)) + " (normalised units)";
  Series train{"training", {}, {}, false}, val{"validation", {}, {}, true};
  for (const MetricRecord& r : read_metrics(metrics)) {
    Series& s = r.kind == "val" ? val : train;
    s.x.push_back(double(r.step));
    s.y.push_back(r.loss_nats);
  }
  spec.series = {train, val};
  write_file_atomic(svg, render_svg(spec));
}

}  // namespace

ForecasterTrainResult train_forecaster(const ForecasterTrainConfig& cfg_in, std::ostream& log_in) {
  ForecasterTrainConfig cfg = cfg_in;
  cfg.validate();
  make_output_directory(cfg.out_path);

  // Data and the model's columns.
  ForecasterTrainResult res;
  ForecasterModel& model = res.model;
  set_forecaster_columns(model, cfg.inputs.empty() ? cfg.targets : cfg.inputs, cfg.targets);
  for (size_t k = 0; k < cfg.targets.size(); ++k) {
    RECUR_CHECK(cfg.strategy == ForecastStrategy::direct || model.targets[k] < model.input_count,
                "the recursive strategy feeds the model its own forecasts, so every target must "
                "be an input; '"
                    << cfg.targets[k] << "' is not in --inputs");
    RECUR_CHECK(!cfg.residual || model.targets[k] < model.input_count,
                "--residual adds the last observed value of each target, so every target must be "
                "an input; '"
                    << cfg.targets[k] << "' is not in --inputs");
  }
  model.window = cfg.window;
  model.season = cfg.season;
  model.group_by = cfg.group_by;
  if (!cfg.where.empty()) std::tie(model.where_column, model.where_value) = parse_where(cfg.where);
  const std::vector<CsvSeries> data = read_csv_series(cfg.csv_path, model.query());
  model.norm = fit_zscore(data);

  ForecasterConfig mc;
  mc.rnn = cfg.rnn;
  mc.rnn.input_size = model.input_count;
  mc.strategy = cfg.strategy;
  mc.horizon = cfg.horizon;
  mc.targets = int64_t(cfg.targets.size());
  mc.residual = cfg.residual;
  if (cfg.residual && cfg.strategy == ForecastStrategy::direct) mc.target_inputs = model.targets;
  model.net = Forecaster<float>(mc);
  for (SplitPart p : {SplitPart::train, SplitPart::valid, SplitPart::test})
    check_forecast_origins(model, data, p, cfg.csv_path);
  fit_forecaster_ar(model, data, cfg.ar_ridge);
  const std::vector<Origin> train =
      forecast_origins(data, SplitPart::train, cfg.window, cfg.horizon);
  const std::vector<Origin> valid =
      forecast_origins(data, SplitPart::valid, cfg.window, cfg.horizon);

  Rng rng(cfg.seed);  // initialisation, then dropout
  init_forecaster(model.net, rng, cfg.init);
  Forecaster<float> grads(mc);
  std::vector<Param<float>> params = param_list(model.net, grads);
  Optimizer<float> opt(cfg.optimizer);
  // Data parallel (recur/dist/data_parallel.h): batches of ranks x --batch windows, each rank
  // trains on its share; rank 0 alone prints and writes.
  dist::DataParallel dp(params);
  const bool root = dp.is_root();
  std::ostream& log = root ? log_in : dist::null_stream();
  const int64_t batch = cfg.batch * dp.size();

  const int64_t per_epoch = (int64_t(train.size()) + batch - 1) / batch;
  const int64_t total = per_epoch * cfg.epochs;
  const OptimizerConfig& o = cfg.optimizer;
  std::map<std::string, std::string> hp =
      run_settings(cfg, std::to_string(fnv1a64(read_file_bytes(cfg.csv_path))), mc.to_metadata());
  hp["query"] = model.query().group_by + "|" + cfg.where;
  hp["columns"] = [&] {
    std::string s;
    for (const std::string& c : model.columns) s += c + ",";
    return s + " inputs " + std::to_string(model.input_count);
  }();
  hp["window"] = std::to_string(cfg.window);
  hp["season"] = std::to_string(cfg.season);
  hp["loss"] = regression_loss_name(cfg.loss);
  hp["init"] = recurrent_init_name(cfg.init);
  hp["ar-ridge"] = exact_decimal(cfg.ar_ridge);
  hp["batch"] = std::to_string(batch);

  int64_t step = 0, interval_steps = 0;
  double seconds_before = 0, interval_loss = 0;
  EarlyStopping early(cfg.guard.patience);  // --patience: the best weights and the count
  const std::string metrics = cfg.metrics_path();
  if (!cfg.resume_path.empty()) {
    const Checkpoint ck = load_checkpoint(cfg.resume_path);
    check_checkpoint_settings(ck, hp, cfg.resume_path, "--epochs and the output intervals");
    model.net.load_state_dict(ck.model, cfg.resume_path);
    opt.import_state(ck.optimizer);
    rng.set_state(decode_rng_state(checkpoint_get(ck, "rng", cfg.resume_path), cfg.resume_path));
    step = checkpoint_get_int(ck, "run.step", cfg.resume_path);
    seconds_before = checkpoint_get_double(ck, "run.seconds", cfg.resume_path);
    interval_loss = checkpoint_get_double(ck, "run.interval_loss", cfg.resume_path);
    interval_steps = checkpoint_get_int(ck, "run.interval_steps", cfg.resume_path);
    early.load(ck, cfg.resume_path);
    if (root && std::filesystem::exists(metrics)) truncate_metrics_after(metrics, step);
    log << "train-forecaster: resumed from " << cfg.resume_path << " at step " << step << "\n";
  } else if (root) {
    std::filesystem::remove(metrics);
  }
  dp.broadcast_parameters();
  dp.own_dropout_stream(rng, cfg.seed, step);
  auto write_checkpoint = [&](double seconds) {
    if (!root) return;
    Checkpoint ck;
    ck.model = model.net.state_dict();
    ck.optimizer = opt.export_state();
    set_checkpoint_settings(ck, hp);
    ck.metadata["rng"] = encode_rng_state(rng.state());
    ck.metadata["run.step"] = std::to_string(step);
    ck.metadata["run.seconds"] = exact_hex(seconds);
    ck.metadata["run.interval_loss"] = exact_hex(interval_loss);
    ck.metadata["run.interval_steps"] = std::to_string(interval_steps);
    early.save(ck);
    save_checkpoint(cfg.checkpoint_path(), ck);
  };

  const std::string file = std::filesystem::path(cfg.csv_path).filename().string();
  log << "train-forecaster: " << data.size() << " series from " << file << "; " << train.size()
      << " training, " << valid.size() << " validation origins; " << model.input_count
      << " input column(s), window " << cfg.window << ", horizon " << cfg.horizon << "\n"
      << "train-forecaster: " << cell_name(mc.rnn.cell) << " " << mc.rnn.num_layers << "x"
      << mc.rnn.hidden_size << ", " << forecast_strategy_name(mc.strategy) << ", loss "
      << regression_loss_name(cfg.loss) << ", batch " << cfg.batch << ", " << cfg.epochs
      << " epochs of " << per_epoch << " updates\n";

  const std::string title = "recur train-forecaster: " + model.network_name() + " on " + file;
  Progress progress(log, cfg.progress_bar);
  const auto t0 = Clock::now();
  auto elapsed = [&] {
    return seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const int64_t start_step = step;
  double eval_seconds = 0;
  auto validate = [&] {
    const auto v0 = Clock::now();
    double loss_sum = 0;
    const dist::Range mine = dp.share(int64_t(valid.size()));  // this rank's share, then the sum
    RnnPacks packs;  // the weights are fixed for the pass: pack each layer once
    for (size_t b0 = size_t(mine.begin); b0 < size_t(mine.end); b0 += 256) {
      const std::vector<Origin> part(
          valid.begin() + std::ptrdiff_t(b0),
          valid.begin() + std::ptrdiff_t(std::min(size_t(mine.end), b0 + 256)));
      Tensor<float> x, y;
      forecaster_training_tensors(model, data, part, &x, &y);
      loss_sum += double(forecaster_batch<float>(model.net, nullptr, x, y, cfg.loss,
                                                       RnnRunOptions().with_packs(&packs))) *
                  double(part.size());
    }
    loss_sum = dp.sum({loss_sum})[0];
    if (early.on())  // alike on every rank: the summed loss
      early.update(loss_sum / double(valid.size()), step, [&] { return model.net.state_dict(); });
    if (!root) return;
    res.valid = forecast_part(model, data, SplitPart::valid);
    const ForecastScores net = score_forecast(res.valid.forecasts[0], res.valid.truth);
    const ForecastScores persistence = score_forecast(res.valid.forecasts[1], res.valid.truth);
    MetricRecord r;
    r.kind = "val";
    r.step = step;
    r.seconds = elapsed();
    r.loss_nats = loss_sum / double(valid.size());
    append_metric(metrics, r);
    char line[240];
    std::snprintf(line, sizeof line,
                  "epoch %lld (step %lld): validation loss %.4f, RMSE %.4f, MAE %.4f "
                  "(persistence %.4f, %.4f)",
                  (long long)(step / per_epoch), (long long)step, r.loss_nats, net.rmse_all[0],
                  net.mae_all[0], persistence.rmse_all[0], persistence.mae_all[0]);
    progress.line(line);
    plot_losses(metrics, cfg.plot_path(), title, cfg.loss);
    eval_seconds += std::chrono::duration<double>(Clock::now() - v0).count();
  };

  const std::vector<int64_t> lengths(train.size(), cfg.window);  // equal: a plain shuffle
  std::vector<std::vector<size_t>> plan;
  int64_t plan_epoch_no = -1;
  NanGuard nan_guard(cfg.guard, {1.0, "1, the error of guessing the mean of the normalised targets"});
  while (step < total) {
    if (early.should_stop()) {  // also when resumed from the checkpoint of a run that stopped so
      res.stopped_early = true;
      break;
    }
    if (dp.any(cfg.stop && cfg.stop->load())) {  // every rank stops at the same step
      res.interrupted = true;
      break;
    }
    const int64_t epoch = step / per_epoch, k = step % per_epoch;
    if (epoch != plan_epoch_no) {
      plan = length_pooled_batches(lengths, batch, cfg.seed, epoch);
      plan_epoch_no = epoch;
    }
    if (cfg.cosine_schedule) {
      const double lo = o.lr * cfg.lr_min_factor;
      opt.set_lr(lo + 0.5 * (o.lr - lo) *
                          (1 + std::cos(3.141592653589793 * double(step) / double(total))));
    }
    const std::vector<size_t>& whole = plan[size_t(k)];
    const dist::Range share = dp.share(int64_t(whole.size()));
    std::vector<Origin> windows;
    for (int64_t i = share.begin; i < share.end; ++i) windows.push_back(train[whole[size_t(i)]]);
    zero_grads(params);
    float loss = 0;
    if (!windows.empty()) {
      Tensor<float> x, y;
      forecaster_training_tensors(model, data, windows, &x, &y);
      loss = forecaster_batch(model.net, &grads, x, y, cfg.loss,
                              RnnRunOptions{true, &rng, cfg.precision});
    }
    loss = float(dp.reduce_step(loss, double(windows.size())));  // over every rank's windows
    float norm = 0;
    if (nan_guard.step_ok(loss, params, step + 1)) {  // alike on every rank: reduced values
      norm = cfg.clip > 0 ? clip_grad_norm(params, float(cfg.clip)) : 0.0f;
      opt.step(params);
      interval_loss += loss;
      ++interval_steps;
    } else {
      progress.line(nan_guard.message());
    }
    ++step;
    const double secs = elapsed();
    const double rate = double(step - start_step) * double(batch) /
                        std::max(1e-9, secs - seconds_before - eval_seconds);
    progress.bar(step, total, interval_loss / double(std::max<int64_t>(1, interval_steps)),
                 regression_loss_name(cfg.loss), rate, "win",
                 double(total - step) * double(batch) / rate);
    if ((step % cfg.log_every == 0 || step % per_epoch == 0) && interval_steps > 0) {
      MetricRecord r;
      r.kind = "train";
      r.step = step;
      r.seconds = secs;
      r.loss_nats = interval_loss / double(interval_steps);
      r.learning_rate = opt.config().lr;
      if (cfg.clip > 0) r.grad_norm = norm;
      if (root) append_metric(metrics, r);
      if (!progress.is_bar() && step % cfg.log_every == 0) {
        char line[200];
        std::snprintf(
            line, sizeof line, "step %lld/%lld  loss %.4f  %.0f windows/s  elapsed %s  eta %s",
            (long long)step, (long long)total, r.loss_nats, rate, format_duration(secs).c_str(),
            format_duration(double(total - step) * double(batch) / rate).c_str());
        progress.line(line);
      }
      interval_loss = 0;
      interval_steps = 0;
    }
    if (step % per_epoch == 0) {
      validate();
      write_checkpoint(elapsed());
    }
  }
  res.steps_done = step;
  res.epochs_done = step / per_epoch;
  res.seconds = elapsed();
  res.skipped_steps = nan_guard.skipped();
  if (res.skipped_steps > 0) progress.line(nan_guard.summary());
  if (res.interrupted) {
    write_checkpoint(res.seconds);
    dp.barrier();  // no rank leaves (with a non-zero status) before it is written
    progress.line("train-forecaster: stopped at step " + std::to_string(step) +
                  "; checkpoint written to " + cfg.checkpoint_path() + " (continue with --resume)");
    return res;
  }
  const bool restored = early.has_best() && early.best_step() != step;
  if (restored) model.net.load_state_dict(early.best_weights(), "the best weights (--patience)");
  if (early.on())
    progress.line("train-forecaster: " + early.summary(step, per_epoch, "validation loss"));
  res.best_step = early.best_step();
  if (!root) return res;  // rank 0 reports and writes
  // Resumed at the end (no epoch ran here, so no validation either), or the best weights back.
  if (step == start_step || restored)
    res.valid = forecast_part(model, data, SplitPart::valid);
  res.test = forecast_part(model, data, SplitPart::test);
  res.report = forecast_report(model, res.test, SplitPart::test);
  write_file_atomic(cfg.forecast_path(), forecast_svg(model, data, res.test, title + " (test)"));
  save_forecaster_model(
      cfg.out_path, model,
      {{"valid_rmse",
        exact_decimal(score_forecast(res.valid.forecasts[0], res.valid.truth).rmse_all[0])}});
  return res;
}

}  // namespace recur
