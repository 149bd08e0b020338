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
#include "recur/layers/rnn_spec.h"
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
  train.validate();
  RECUR_CHECK(window >= 1 && horizon >= 1, "--window and --horizon must be >= 1");
  RECUR_CHECK(season >= 0, "--season must be >= 0, got " << season);
  RECUR_CHECK(ar_ridge >= 0 && std::isfinite(ar_ridge),
              "--ar-ridge must be >= 0, got " << ar_ridge);
  if (!where.empty()) parse_where(where);
}

std::string ForecasterTrainConfig::forecast_path() const {
  return output_stem(train.out_path) + ".forecast.svg";
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

// The model's columns, normalisation and network for this run's data (read into `data`), and
// its AR baseline fitted; the network's weights are drawn later.
ForecasterConfig setup_forecaster(const ForecasterTrainConfig& cfg, ForecasterModel& model,
                                  std::vector<CsvSeries>& data) {
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
  data = read_csv_series(cfg.csv_path, model.query());
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
  return mc;
}

// The settings a resumed run must share with the run that wrote the checkpoint.
std::map<std::string, std::string> forecaster_settings(const ForecasterTrainConfig& cfg,
                                                       const ForecasterModel& model,
                                                       const ForecasterConfig& mc, int64_t batch) {
  std::map<std::string, std::string> hp = run_settings(
      cfg.train, std::to_string(fnv1a64(read_file_bytes(cfg.csv_path))), mc.to_metadata());
  hp["query"] = model.query().group_by + "|" + cfg.where;
  std::string columns;
  for (const std::string& c : model.columns) columns += c + ",";
  hp["columns"] = columns + " inputs " + std::to_string(model.input_count);
  hp["window"] = std::to_string(cfg.window);
  hp["season"] = std::to_string(cfg.season);
  hp["loss"] = regression_loss_name(cfg.loss);
  hp["init"] = recurrent_init_name(cfg.init);
  hp["ar-ridge"] = exact_decimal(cfg.ar_ridge);
  hp["batch"] = std::to_string(batch);
  return hp;
}

// One train-forecaster run: data, model, optimiser, the state a checkpoint holds, and the parts
// of its loop. Data parallel (recur/dist/data_parallel.h): batches of ranks x --batch windows,
// each rank trains on its share; rank 0 alone prints and writes.
class ForecasterRun {
 public:
  ForecasterRun(const ForecasterTrainConfig& cfg, std::ostream& log_in)
      : cfg_(cfg), ts_(cfg.train),
        mc_(setup_forecaster(cfg, res_.model, data_)),
        train_(forecast_origins(data_, SplitPart::train, cfg.window, cfg.horizon)),
        valid_(forecast_origins(data_, SplitPart::valid, cfg.window, cfg.horizon)),
        rng_(cfg.train.seed), early_(cfg.train.guard.patience), metrics_(cfg.train.metrics_path()),
        file_(std::filesystem::path(cfg.csv_path).filename().string()),
        nan_guard_(cfg.train.guard,
                   {1.0, "1, the error of guessing the mean of the normalised targets"}) {
    init_forecaster(model().net, rng_, cfg.init);  // the RNG: initialisation, then dropout
    grads_ = Forecaster<float>(mc_);
    params_ = param_list(model().net, grads_);
    opt_ = std::make_unique<Optimizer<float>>(cfg.train.optimizer);
    dp_ = std::make_unique<dist::DataParallel>(params_);
    root_ = dp_->is_root();
    log_ = root_ ? &log_in : &dist::null_stream();
    batch_ = cfg.train.batch * dp_->size();
    per_epoch_ = (int64_t(train_.size()) + batch_ - 1) / batch_;
    total_ = per_epoch_ * cfg.train.epochs;
    hp_ = forecaster_settings(cfg, model(), mc_, batch_);
    title_ = "recur train-forecaster: " + model().network_name() + " on " + file_;
  }

  ForecasterTrainResult run() {
    resume_or_start();
    print_header();
    progress_ = std::make_unique<Progress>(*log_, ts_.progress_bar);
    t0_ = Clock::now();
    start_step_ = step_;
    lengths_.assign(train_.size(), cfg_.window);  // equal: a plain shuffle
    while (step_ < total_ && train_step()) {
      if (step_ % per_epoch_ != 0) continue;
      validate();
      write_checkpoint(elapsed());
    }
    return finish();
  }

 private:
  ForecasterModel& model() { return res_.model; }
  double elapsed() const {
    return seconds_before_ + std::chrono::duration<double>(Clock::now() - t0_).count();
  }

  void resume_or_start() {
    if (!ts_.resume_path.empty()) {
      const std::string& from = ts_.resume_path;
      const Checkpoint ck =
          resume_checkpoint(from, hp_, "--epochs and the output intervals", *opt_, rng_);
      model().net.load_state_dict(ck.model, from);
      step_ = checkpoint_get_int(ck, "run.step", from);
      seconds_before_ = checkpoint_get_double(ck, "run.seconds", from);
      interval_loss_ = checkpoint_get_double(ck, "run.interval_loss", from);
      interval_steps_ = checkpoint_get_int(ck, "run.interval_steps", from);
      early_.load(ck, from);
      *log_ << "train-forecaster: resumed from " << from << " at step " << step_ << "\n";
    }
    if (root_) start_metrics(metrics_, !ts_.resume_path.empty(), step_);
    dp_->broadcast_parameters();
    dp_->own_dropout_stream(rng_, ts_.seed, step_);
  }

  void write_checkpoint(double seconds) {
    if (!root_) return;
    Checkpoint ck = run_checkpoint(*opt_, hp_, rng_);
    ck.model = model().net.state_dict();
    ck.metadata["run.step"] = std::to_string(step_);
    ck.metadata["run.seconds"] = exact_hex(seconds);
    ck.metadata["run.interval_loss"] = exact_hex(interval_loss_);
    ck.metadata["run.interval_steps"] = std::to_string(interval_steps_);
    early_.save(ck);
    save_checkpoint(ts_.checkpoint_path(), ck);
  }

  void print_header() {
    *log_ << "train-forecaster: " << data_.size() << " series from " << file_ << "; "
          << train_.size() << " training, " << valid_.size() << " validation origins; "
          << model().input_count << " input column(s), window " << cfg_.window << ", horizon "
          << cfg_.horizon << "\n"
          << "train-forecaster: " << rnn_summary(mc_.rnn) << ", " << forecast_strategy_name(mc_.strategy) << ", loss "
          << regression_loss_name(cfg_.loss) << ", batch " << ts_.batch << ", " << ts_.epochs
          << " epochs of " << per_epoch_ << " updates\n";
  }

  // The validation loss (each rank its share, then the sum), the forecasts' scores on rank 0.
  void validate() {
    const auto v0 = Clock::now();
    double loss_sum = 0;
    const dist::Range mine = dp_->share(int64_t(valid_.size()));
    RnnPacks packs;  // the weights are fixed for the pass: pack each layer once
    for (size_t b0 = size_t(mine.begin); b0 < size_t(mine.end); b0 += 256) {
      const std::vector<Origin> part(
          valid_.begin() + std::ptrdiff_t(b0),
          valid_.begin() + std::ptrdiff_t(std::min(size_t(mine.end), b0 + 256)));
      Tensor<float> x, y;
      forecaster_training_tensors(model(), data_, part, &x, &y);
      loss_sum += double(forecaster_batch<float>(model().net, nullptr, x, y, cfg_.loss,
                                                 RnnRunOptions().with_packs(&packs))) *
                  double(part.size());
    }
    loss_sum = dp_->sum({loss_sum})[0];
    if (early_.on())  // alike on every rank: the summed loss
      early_.update(loss_sum / double(valid_.size()), step_, [&] { return model().net.state_dict(); });
    if (!root_) return;
    res_.valid = forecast_part(model(), data_, SplitPart::valid);
    const ForecastScores net = score_forecast(res_.valid.forecasts[0], res_.valid.truth);
    const ForecastScores persistence = score_forecast(res_.valid.forecasts[1], res_.valid.truth);
    MetricRecord r;
    r.kind = "val";
    r.step = step_;
    r.seconds = elapsed();
    r.loss_nats = loss_sum / double(valid_.size());
    append_metric(metrics_, r);
    char line[240];
    std::snprintf(line, sizeof line,
                  "epoch %lld (step %lld): validation loss %.4f, RMSE %.4f, MAE %.4f "
                  "(persistence %.4f, %.4f)",
                  (long long)(step_ / per_epoch_), (long long)step_, r.loss_nats, net.rmse_all[0],
                  net.mae_all[0], persistence.rmse_all[0], persistence.mae_all[0]);
    progress_->line(line);
    plot_losses(metrics_, ts_.plot_path(), title_, cfg_.loss);
    eval_seconds_ += std::chrono::duration<double>(Clock::now() - v0).count();
  }

  // One update on the next batch of windows; false when the run should stop instead.
  bool train_step() {
    if (early_.should_stop()) {  // also when resumed from the checkpoint of a run that stopped so
      res_.stopped_early = true;
      return false;
    }
    if (dp_->any(ts_.stop && ts_.stop->load())) {  // every rank stops at the same step
      res_.interrupted = true;
      return false;
    }
    const int64_t epoch = step_ / per_epoch_, k = step_ % per_epoch_;
    if (epoch != plan_epoch_no_) {
      plan_ = length_pooled_batches(lengths_, batch_, ts_.seed, epoch);
      plan_epoch_no_ = epoch;
    }
    if (ts_.cosine_schedule) opt_->set_lr(ts_.lr_at(step_, total_));
    const std::vector<size_t>& whole = plan_[size_t(k)];
    const dist::Range share = dp_->share(int64_t(whole.size()));
    std::vector<Origin> windows;
    for (int64_t i = share.begin; i < share.end; ++i) windows.push_back(train_[whole[size_t(i)]]);
    zero_grads(params_);
    float loss = 0;
    if (!windows.empty()) {
      Tensor<float> x, y;
      forecaster_training_tensors(model(), data_, windows, &x, &y);
      loss = forecaster_batch(model().net, &grads_, x, y, cfg_.loss,
                              RnnRunOptions{true, &rng_, ts_.precision});
    }
    loss = float(dp_->reduce_step(loss, double(windows.size())));  // over every rank's windows
    float norm = 0;
    if (nan_guard_.step_ok(loss, params_, step_ + 1)) {  // alike on every rank: reduced values
      norm = ts_.clip > 0 ? clip_grad_norm(params_, float(ts_.clip)) : 0.0f;
      opt_->step(params_);
      interval_loss_ += loss;
      ++interval_steps_;
    } else {
      progress_->line(nan_guard_.message());
    }
    ++step_;
    report_progress(norm);
    return true;
  }

  // The progress bar after every step; a metrics record every --log-every steps and at epoch ends.
  void report_progress(float norm) {
    const double secs = elapsed();
    const double rate = double(step_ - start_step_) * double(batch_) /
                        std::max(1e-9, secs - seconds_before_ - eval_seconds_);
    const double eta = double(total_ - step_) * double(batch_) / rate;
    progress_->bar(step_, total_, interval_loss_ / double(std::max<int64_t>(1, interval_steps_)),
                   regression_loss_name(cfg_.loss), rate, "win", eta);
    const bool record = step_ % ts_.log_every == 0 || step_ % per_epoch_ == 0;
    if (!(record && interval_steps_ > 0)) return;
    MetricRecord r;
    r.kind = "train";
    r.step = step_;
    r.seconds = secs;
    r.loss_nats = interval_loss_ / double(interval_steps_);
    r.learning_rate = opt_->config().lr;
    if (ts_.clip > 0) r.grad_norm = norm;
    if (root_) append_metric(metrics_, r);
    if (!progress_->is_bar() && step_ % ts_.log_every == 0) {
      char line[200];
      std::snprintf(line, sizeof line,
                    "step %lld/%lld  loss %.4f  %.0f windows/s  elapsed %s  eta %s",
                    (long long)step_, (long long)total_, r.loss_nats, rate,
                    format_duration(secs).c_str(), format_duration(eta).c_str());
      progress_->line(line);
    }
    interval_loss_ = 0;
    interval_steps_ = 0;
  }

  ForecasterTrainResult finish() {
    res_.steps_done = step_;
    res_.epochs_done = step_ / per_epoch_;
    res_.seconds = elapsed();
    res_.skipped_steps = nan_guard_.skipped();
    if (res_.skipped_steps > 0) progress_->line(nan_guard_.summary());
    if (res_.interrupted) {
      write_checkpoint(res_.seconds);
      dp_->barrier();  // no rank leaves (with a non-zero status) before it is written
      progress_->line("train-forecaster: stopped at step " + std::to_string(step_) +
                      "; checkpoint written to " + ts_.checkpoint_path() +
                      " (continue with --resume)");
      return std::move(res_);
    }
    const bool restored = early_.has_best() && early_.best_step() != step_;
    if (restored) model().net.load_state_dict(early_.best_weights(), "the best weights (--patience)");
    if (early_.on())
      progress_->line("train-forecaster: " + early_.summary(step_, per_epoch_, "validation loss"));
    res_.best_step = early_.best_step();
    if (!root_) return std::move(res_);  // rank 0 reports and writes
    // Resumed at the end (no epoch ran here, so no validation either), or the best weights back.
    if (step_ == start_step_ || restored) res_.valid = forecast_part(model(), data_, SplitPart::valid);
    res_.test = forecast_part(model(), data_, SplitPart::test);
    res_.report = forecast_report(model(), res_.test, SplitPart::test);
    write_file_atomic(cfg_.forecast_path(),
                      forecast_svg(model(), data_, res_.test, title_ + " (test)"));
    save_forecaster_model(
        ts_.out_path, model(),
        {{"valid_rmse",
          exact_decimal(score_forecast(res_.valid.forecasts[0], res_.valid.truth).rmse_all[0])}});
    return std::move(res_);
  }

  const ForecasterTrainConfig& cfg_;
  const TrainSettings& ts_;    // cfg_.train
  ForecasterTrainResult res_;  // its model is the one being trained
  std::vector<CsvSeries> data_;
  const ForecasterConfig mc_;
  const std::vector<Origin> train_, valid_;
  Rng rng_;
  Forecaster<float> grads_;
  std::vector<Param<float>> params_;
  std::unique_ptr<Optimizer<float>> opt_;
  std::unique_ptr<dist::DataParallel> dp_;
  bool root_ = true;
  std::ostream* log_ = nullptr;
  int64_t batch_ = 0, per_epoch_ = 0, total_ = 0;
  std::map<std::string, std::string> hp_;
  // The run's state: all of it goes into a checkpoint.
  int64_t step_ = 0, interval_steps_ = 0;
  double seconds_before_ = 0, interval_loss_ = 0;
  EarlyStopping early_;  // --patience: the best weights and the count
  // This process's own bookkeeping.
  const std::string metrics_, file_;
  std::string title_;
  std::unique_ptr<Progress> progress_;
  Clock::time_point t0_ = Clock::now();
  int64_t start_step_ = 0;
  double eval_seconds_ = 0;
  std::vector<int64_t> lengths_;
  std::vector<std::vector<size_t>> plan_;
  int64_t plan_epoch_no_ = -1;
  NanGuard nan_guard_;
};

}  // namespace

ForecasterTrainResult train_forecaster(const ForecasterTrainConfig& cfg_in, std::ostream& log) {
  return ForecasterRun(prepare_run(cfg_in), log).run();
}

}  // namespace recur
