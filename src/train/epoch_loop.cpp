#include "recur/train/epoch_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <ostream>

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
namespace {

// The end of a run with --patience: the best weights back into the model (validated again, so
// the task's results describe them, unless they are the last ones), and the summary line.
void restore_best(const EarlyStopping& early, int64_t step, int64_t per_epoch,
                  const std::string& command, const EpochTask& task, dist::DataParallel& dp,
                  Progress& progress) {
  if (early.has_best() && early.best_step() != step) {
    task.load_model_state(early.best_weights(), "the best weights (--patience)");
    task.validate(dp);
  }
  progress.line(command + ": " + early.summary(step, per_epoch, "validation loss"));
}

}  // namespace

EpochLoopResult run_epoch_loop(const EpochLoopSettings& s, const EpochTask& task,
                               std::vector<Param<float>>& params, Optimizer<float>& opt, Rng& rng,
                               std::ostream& log_in) {
  using Clock = std::chrono::steady_clock;
  const TrainSettings& t = s.train;
  RECUR_CHECK(!s.lengths.empty(), s.command << ": no training examples");
  dist::DataParallel dp(params);
  const bool root = dp.is_root();
  std::ostream& log = root ? log_in : dist::null_stream();
  const int64_t batch = t.batch * dp.size();  // of the whole run, every rank's share together
  EpochLoopResult res;
  const int64_t per_epoch = (int64_t(s.lengths.size()) + batch - 1) / batch;
  const int64_t total = per_epoch * t.epochs;
  res.per_epoch = per_epoch;
  const std::string metrics_path = t.metrics_path(), checkpoint_path = t.checkpoint_path();

  // Run state: everything below goes into a checkpoint.
  int64_t step = 0, items_done = 0, interval_steps = 0, interval_correct = 0, interval_seen = 0;
  double seconds_before = 0, interval_loss = 0;
  EarlyStopping early(t.guard.patience);
  std::map<std::string, std::string> settings = s.settings;
  if (settings.count("batch")) settings["batch"] = std::to_string(batch);  // the run's, all ranks'
  if (!t.resume_path.empty()) {
    const std::string& from = t.resume_path;
    const Checkpoint ck =
        resume_checkpoint(from, settings, "--epochs and the output intervals", opt, rng);
    task.load_model_state(ck.model, from);
    step = checkpoint_get_int(ck, "run.step", from);
    items_done = checkpoint_get_int(ck, "run.items", from);
    seconds_before = checkpoint_get_double(ck, "run.seconds", from);
    interval_loss = checkpoint_get_double(ck, "run.interval_loss", from);
    interval_steps = checkpoint_get_int(ck, "run.interval_steps", from);
    interval_correct = checkpoint_get_int(ck, "run.interval_correct", from);
    interval_seen = checkpoint_get_int(ck, "run.interval_seen", from);
    early.load(ck, from);
    log << s.command << ": resumed from " << from << " at step " << step << "\n";
  }
  if (root) start_metrics(metrics_path, !t.resume_path.empty(), step);
  dp.broadcast_parameters();  // equal already (same seed or checkpoint); now certainly
  dp.own_dropout_stream(rng, t.seed, step);
  auto write_checkpoint = [&](double seconds) {
    if (!root) return;
    Checkpoint ck = run_checkpoint(opt, settings, rng);
    ck.model = task.model_state();
    ck.metadata["run.step"] = std::to_string(step);
    ck.metadata["run.items"] = std::to_string(items_done);
    ck.metadata["run.seconds"] = exact_hex(seconds);
    ck.metadata["run.interval_loss"] = exact_hex(interval_loss);
    ck.metadata["run.interval_steps"] = std::to_string(interval_steps);
    ck.metadata["run.interval_correct"] = std::to_string(interval_correct);
    ck.metadata["run.interval_seen"] = std::to_string(interval_seen);
    early.save(ck);
    save_checkpoint(checkpoint_path, ck);
  };

  Progress progress(log, t.progress_bar);
  const auto t0 = Clock::now();
  auto elapsed = [&] {
    return seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
  };
  const int64_t start_step = step, start_items = items_done;
  double eval_seconds = 0;
  auto validate = [&] {
    const auto v0 = Clock::now();
    const EpochValidation v = task.validate(dp);
    if (early.on()) early.update(v.loss_nats, step, task.model_state);  // alike on every rank
    if (!root) return;
    MetricRecord r;
    r.kind = "val";
    r.step = step;
    if (s.items_are_tokens) r.tokens = double(items_done);
    r.seconds = elapsed();
    r.loss_nats = v.loss_nats;
    r.bits_per_token = v.loss_nats / std::log(2.0);
    r.accuracy = v.accuracy;
    append_metric(metrics_path, r);
    progress.line("epoch " + std::to_string(step / per_epoch) + " (step " + std::to_string(step) +
                  "): validation " + v.summary);
    plot_training_curves(read_metrics(metrics_path), t.plot_path(), s.plot_title);
    eval_seconds += std::chrono::duration<double>(Clock::now() - v0).count();
  };

  std::vector<std::vector<size_t>> plan;
  int64_t plan_epoch = -1;
  std::vector<size_t> mine;
  NanGuard nan_guard(t.guard, s.baseline);
  while (step < total) {
    if (early.should_stop()) {  // also when resumed from the checkpoint of a run that stopped so
      res.stopped_early = true;
      break;
    }
    if (dp.any(t.stop && t.stop->load())) {  // every rank stops at the same step
      res.interrupted = true;
      break;
    }
    const int64_t epoch = step / per_epoch;
    if (epoch != plan_epoch) {
      plan = length_pooled_batches(s.lengths, batch, t.seed, epoch);
      plan_epoch = epoch;
    }
    if (t.cosine_schedule) opt.set_lr(t.lr_at(step, total));  // from the step alone: resume-safe
    if (task.before_batch) task.before_batch(step, total);
    const std::vector<size_t>& whole = plan[size_t(step % per_epoch)];
    const dist::Range r = dp.share(int64_t(whole.size()));  // all of it on one process
    mine.assign(whole.begin() + r.begin, whole.begin() + r.end);
    EpochStep b;
    if (mine.empty())  // a short last batch: nothing here, the others' average counts
      zero_grads(params);
    else
      b = task.train_batch(mine, rng);
    // The whole batch's mean loss and counts, and the gradient of that mean, on every rank.
    std::vector<double> counts = {double(b.items), double(b.correct), double(b.seen)};
    b.loss_nats = dp.reduce_step(b.loss_nats, mine.empty() ? 0.0 : b.weight > 0 ? b.weight : double(b.items),
                                 &counts);
    b.items = int64_t(counts[0]);
    b.correct = int64_t(counts[1]);
    b.seen = int64_t(counts[2]);
    if (nan_guard.step_ok(b.loss_nats, params, step + 1)) {  // alike on every rank: reduced values
      if (t.clip > 0) clip_grad_norm(params, float(t.clip));
      opt.step(params);
      interval_loss += b.loss_nats;
      ++interval_steps;
      interval_correct += b.correct;
      interval_seen += b.seen;
    } else {
      progress.line(nan_guard.message());
    }
    ++step;
    items_done += b.items;

    const double secs = elapsed();
    const double train_secs = std::max(1e-9, secs - seconds_before - eval_seconds);
    const double rate = double(items_done - start_items) / train_secs;
    const double eta = double(total - step) * train_secs / double(step - start_step);
    const double loss = interval_loss / double(std::max<int64_t>(1, interval_steps));
    progress.bar(step, total, loss / std::log(2.0), "bits", rate, s.items, eta);
    if ((step % t.log_every == 0 || step % per_epoch == 0) && interval_steps > 0) {
      MetricRecord r;
      r.kind = "train";
      r.step = step;
      r.seconds = secs;
      r.loss_nats = loss;
      r.bits_per_token = loss / std::log(2.0);
      r.learning_rate = opt.config().lr;
      if (s.items_are_tokens) {
        r.tokens = double(items_done);
        r.tokens_per_second = rate;
      }
      if (interval_seen > 0) r.accuracy = double(interval_correct) / double(interval_seen);
      if (root) append_metric(metrics_path, r);
      if (!progress.is_bar()) {
        char acc[64] = "";
        if (interval_seen > 0)
          std::snprintf(acc, sizeof acc, "  %s %.3f", s.accuracy,
                        double(interval_correct) / double(interval_seen));
        char line[240];
        std::snprintf(line, sizeof line, "step %lld/%lld  loss %.4f%s  %.0f %s/s  elapsed %s  eta %s",
                      (long long)step, (long long)total, loss, acc, rate, s.items,
                      format_duration(secs).c_str(), format_duration(eta).c_str());
        progress.line(line);
      }
      interval_loss = 0;
      interval_steps = interval_correct = interval_seen = 0;
    }
    if (step % per_epoch == 0) {
      validate();
      write_checkpoint(elapsed());
    }
  }
  res.steps = step;
  res.epochs = step / per_epoch;
  res.seconds = elapsed();
  res.skipped = nan_guard.skipped();
  if (res.skipped > 0) progress.line(nan_guard.summary());
  if (res.interrupted) {
    write_checkpoint(res.seconds);
    dp.barrier();  // no rank leaves (with a non-zero status) before it is written
    progress.line(s.command + ": stopped at step " + std::to_string(step) +
                  "; checkpoint written to " + checkpoint_path + " (continue with --resume)");
  } else if (early.on()) {
    restore_best(early, step, per_epoch, s.command, task, dp, progress);
    res.best_step = early.best_step();
  }
  return res;
}

}  // namespace recur
