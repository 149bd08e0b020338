// The settings every trainer shares: their checks, the files beside the model, the learning-rate
// schedule and the settings a checkpoint records.
#include "recur/train/train_settings.h"

#include <cmath>

#include "recur/core/error.h"
#include "recur/train/run_files.h"

namespace recur {

void TrainSettings::validate(Length length) const {
  RECUR_CHECK(!out_path.empty(), "out_path is required: the model file to write");
  RECUR_CHECK(batch > 0, "batch must be positive, got " << batch);
  if (length == Length::epochs)
    RECUR_CHECK(epochs > 0, "epochs must be positive, got " << epochs);
  else
    RECUR_CHECK(epochs == 0, "epochs must be 0 here, got "
                                 << epochs << " (this trainer's length is in fields of its own)");
  RECUR_CHECK(clip >= 0, "clip must be >= 0, got " << clip);
  RECUR_CHECK(log_every > 0, "log_every must be positive, got " << log_every);
  RECUR_CHECK(lr_min_factor >= 0 && lr_min_factor <= 1,
              "lr_min_factor must be in [0, 1], got " << lr_min_factor);
  optimizer.validate();
}

std::string TrainSettings::metrics_path() const { return metrics_path_for(out_path); }
std::string TrainSettings::plot_path() const { return plot_path_for(out_path); }
std::string TrainSettings::checkpoint_path() const { return checkpoint_path_for(out_path); }

double cosine_lr(double lr, double min_factor, double angle) {
  const double lo = lr * min_factor;
  return lo + 0.5 * (lr - lo) * (1 + std::cos(angle));
}

double TrainSettings::lr_at(int64_t step, int64_t total) const {
  if (!cosine_schedule) return optimizer.lr;
  return cosine_lr(optimizer.lr, lr_min_factor, 3.141592653589793 * double(step) / double(total));
}

std::map<std::string, std::string> optimisation_settings(const TrainSettings& t) {
  const OptimizerConfig& o = t.optimizer;
  return {{"batch", std::to_string(t.batch)},
          {"optimizer", optimizer_kind_name(o.kind)},
          {"lr", exact_decimal(o.lr)},
          {"momentum", exact_decimal(o.momentum)},
          {"weight-decay", exact_decimal(o.weight_decay)},
          {"clip", exact_decimal(t.clip)},
          {"lr-schedule",
           t.cosine_schedule ? "cosine to " + exact_decimal(t.lr_min_factor) : "constant"},
          {"seed", std::to_string(t.seed)}};
}

std::map<std::string, std::string> run_settings(
    const TrainSettings& t, const std::string& data_fingerprint,
    const std::map<std::string, std::string>& model_meta) {
  std::string model;
  for (const auto& [k, v] : model_meta)
    if (!k.ends_with("rnn_spec")) model += k + "=" + v + ";";
  std::map<std::string, std::string> s = optimisation_settings(t);
  s["data"] = data_fingerprint;
  s["model"] = model;
  return s;
}

}  // namespace recur
