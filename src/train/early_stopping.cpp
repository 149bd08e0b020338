// Early stopping with keep-best (recur/train/early_stopping.h).
#include "recur/train/early_stopping.h"

#include <cstdio>

#include "recur/core/error.h"
#include "recur/train/run_files.h"

namespace recur {

EarlyStopping::EarlyStopping(int64_t patience) : patience_(patience) {
  RECUR_CHECK(patience >= 0, "--patience must be >= 0, got " << patience);
}

bool EarlyStopping::update(double score, int64_t step, const std::function<Weights()>& weights) {
  if (!(score < best_score_)) {  // equal, worse or NaN: no improvement
    ++since_best_;
    return false;
  }
  best_score_ = score;
  best_step_ = step;
  since_best_ = 0;
  if (weights) best_weights_ = weights();
  return true;
}

void EarlyStopping::save(Checkpoint& ck) const {
  if (!on()) return;
  ck.metadata["run.early.since_best"] = std::to_string(since_best_);
  if (!has_best()) return;
  ck.metadata["run.early.best_step"] = std::to_string(best_step_);
  ck.metadata["run.early.best_score"] = exact_hex(best_score_);
  ck.best = best_weights_;
}

void EarlyStopping::load(const Checkpoint& ck, const std::string& source) {
  if (!on() || !ck.metadata.count("run.early.since_best")) return;  // a run without --patience
  since_best_ = checkpoint_get_int(ck, "run.early.since_best", source);
  if (!ck.metadata.count("run.early.best_step")) return;
  best_step_ = checkpoint_get_int(ck, "run.early.best_step", source);
  best_score_ = checkpoint_get_double(ck, "run.early.best_score", source);
  best_weights_ = ck.best;
}

std::string EarlyStopping::summary(int64_t steps, int64_t per_epoch,
                                   const std::string& score_name) const {
  auto when = [per_epoch](int64_t step) {
    const std::string s = "step " + std::to_string(step);
    return per_epoch > 0 ? "epoch " + std::to_string(step / per_epoch) + " (" + s + ")" : s;
  };
  std::string out;
  if (should_stop())
    out = "stopped early at " + when(steps) + ": no better " + score_name + " in " +
          std::to_string(since_best_) + (since_best_ == 1 ? " validation" : " validations") +
          " (--patience " + std::to_string(patience_) + "); ";
  if (!has_best()) return out + "no validation was finite; the model holds the last weights";
  char score[64];
  std::snprintf(score, sizeof score, "%.4f", best_score_);
  return out + "the model holds the best weights, from " + when(best_step_) + ": " + score_name +
         " " + score;
}

}  // namespace recur
