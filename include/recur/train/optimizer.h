// Optimizers matching torch.optim: SGD (momentum, dampening, Nesterov), Adam and AdamW, each with
// optional L1 and L2 penalties; state exports as named tensors so a checkpoint resumes
// bit-identically.
//
// Per element, with w the parameter, g its gradient, t the step count (1 on the first step):
//   g <- g + l1 * sign(w)                        (all kinds; sign(0) = 0)
//   SGD:   g <- g + wd * w
//          b <- g on the first step, else momentum * b + (1 - dampening) * g   (when momentum > 0)
//          g <- g + momentum * b if nesterov, else b                          (when momentum > 0)
//          w <- w - lr * g
//   Adam:  g <- g + wd * w                        (L2 through the gradient, like torch.optim.Adam)
//   AdamW: w <- w * (1 - lr * wd)                 (decoupled, like torch.optim.AdamW)
//   both:  m <- beta1 * m + (1 - beta1) * g
//          v <- beta2 * v + (1 - beta2) * g * g
//          w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// Scalar coefficients are computed in double and cast to T, as PyTorch does with Python floats.
//
// Exported state names: "step" (shape (1,)), "<param>.momentum_buffer" (SGD with momentum),
// "<param>.exp_avg" and "<param>.exp_avg_sq" (Adam, AdamW). The step count is global: step() must
// see the same parameter list every time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recur/core/tensor.h"
#include "recur/train/param.h"

namespace recur {

enum class OptimizerKind { kSgd, kAdam, kAdamW };

// "sgd", "adam", "adamw".
const char* optimizer_kind_name(OptimizerKind kind);
// Inverse of optimizer_kind_name; throws recur::Error listing the valid names.
OptimizerKind parse_optimizer_kind(const std::string& name);

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSgd;
  double lr = 1e-3;
  double momentum = 0;      // SGD only, [0, 1)
  double dampening = 0;     // SGD only, [0, 1]
  bool nesterov = false;    // SGD only; needs momentum > 0 and dampening = 0
  double beta1 = 0.9;       // Adam/AdamW, [0, 1)
  double beta2 = 0.999;     // Adam/AdamW, [0, 1)
  double eps = 1e-8;        // Adam/AdamW, >= 0
  double weight_decay = 0;  // L2 (SGD, Adam) or decoupled decay (AdamW); note torch's AdamW
                            // defaults to 1e-2, this config to 0
  double l1 = 0;            // L1 penalty strength, all kinds

  // Throws recur::Error naming the first bad field (negative lr, beta outside [0, 1), an SGD-only
  // option on Adam, nesterov without momentum, non-finite values, ...).
  void validate() const;
};

template <class T>
class Optimizer {
 public:
  using State = std::map<std::string, Tensor<T>>;

  // Validates the config.
  explicit Optimizer(const OptimizerConfig& config);

  // One update of every parameter in place from its gradient (gradients are read, not cleared).
  void step(const std::vector<Param<T>>& params);

  const OptimizerConfig& config() const { return cfg_; }
  // Changes the learning rate (schedules); throws if lr is negative or not finite.
  void set_lr(double lr);
  int64_t steps() const { return step_; }

  // A copy of the state: "step" plus the per-parameter slots named above.
  State export_state() const;
  // Replaces the state. Checks "step" and the slot names for this kind now, and on the next step()
  // that every slot names a parameter in the list with the parameter's shape.
  void import_state(const State& state);

 private:
  Tensor<T>& slot(const Param<T>& p, const std::string& suffix, bool* created);
  void verify_slots(const std::vector<Param<T>>& params) const;
  void step_sgd(const Param<T>& p);
  void step_adam(const Param<T>& p);

  OptimizerConfig cfg_;
  int64_t step_ = 0;
  State state_;
  bool verify_on_step_ = false;
};

}  // namespace recur
