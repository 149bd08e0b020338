// Early stopping with keep-best (--patience N), shared by every trainer, as Keras's
// EarlyStopping(patience=N, restore_best_weights=True): after each validation a lower score than
// the best so far keeps the weights and resets the count; any other (equal, higher, NaN) counts
// one, and after N in a row training stops. The trainer then restores the best weights, so the
// model it writes is the one that validated best.
//
// Resume: save() puts the best score, its step, the count and the best weights (tensors
// "best.<name>") into the run's checkpoint; load() takes them back, so a resumed run stops at the
// same step and keeps the same weights as one that was never interrupted.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "recur/core/tensor.h"
#include "recur/train/checkpoint.h"

namespace recur {

class EarlyStopping {
 public:
  using Weights = std::map<std::string, Tensor<float>>;

  explicit EarlyStopping(int64_t patience = 0);
  bool on() const { return patience_ > 0; }
  int64_t patience() const { return patience_; }

  // One validation's score (lower is better) after `step` steps. True when it beats the best so
  // far: then `weights` (optional) is called and what it returns is kept as the best weights.
  bool update(double score, int64_t step, const std::function<Weights()>& weights = {});
  // `patience` validations in a row did not beat the best: training should stop (never when off).
  bool should_stop() const { return on() && since_best_ >= patience_; }

  bool has_best() const { return best_step_ >= 0; }
  double best_score() const { return best_score_; }
  int64_t best_step() const { return best_step_; }     // -1 before the first improvement
  int64_t since_best() const { return since_best_; }   // validations since the best one
  const Weights& best_weights() const { return best_weights_; }

  // Into a checkpoint and back (nothing when off; a checkpoint without them starts afresh).
  void save(Checkpoint& ck) const;
  void load(const Checkpoint& ck, const std::string& source);

  // For the end of a run that ran `steps` steps: whether it stopped early, and which validation
  // was best ("epoch 3 (step 30)" when per_epoch > 0, else "step 30") with its score, e.g.
  // "stopped early at epoch 5 (step 50): no better validation loss in 2 validations (--patience 2);
  // the model holds the best weights, from epoch 3 (step 30): validation loss 0.4120".
  std::string summary(int64_t steps, int64_t per_epoch, const std::string& score_name) const;

 private:
  int64_t patience_;
  double best_score_ = std::numeric_limits<double>::infinity();
  int64_t best_step_ = -1, since_best_ = 0;
  Weights best_weights_;
};

}  // namespace recur
