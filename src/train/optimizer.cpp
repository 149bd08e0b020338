// SGD, Adam and AdamW updates with state export/import; equations in recur/train/optimizer.h.
#include "recur/train/optimizer.h"

#include <cmath>
#include <set>

#include "recur/core/enum_names.h"
#include "recur/core/error.h"

namespace recur {

namespace {

const char* const kMomentum = ".momentum_buffer";
const char* const kExpAvg = ".exp_avg";
const char* const kExpAvgSq = ".exp_avg_sq";

bool finite(double x) { return std::isfinite(x); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

template <class T>
T sign(T x) {
  return T((x > T(0)) - (x < T(0)));
}

}  // namespace

constexpr EnumNames<OptimizerKind, 3> kOptimizerKindNames{{{OptimizerKind::kSgd, "sgd"},
                                                           {OptimizerKind::kAdam, "adam"},
                                                           {OptimizerKind::kAdamW, "adamw"}}};

const char* optimizer_kind_name(OptimizerKind kind) { return enum_name(kOptimizerKindNames, kind); }
OptimizerKind parse_optimizer_kind(const std::string& name) {
  return parse_enum(kOptimizerKindNames, name, "optimizer");
}

void OptimizerConfig::validate() const {
  const char* who = optimizer_kind_name(kind);
  RECUR_CHECK(finite(lr) && lr >= 0, who << ": lr is " << lr << "; expected a finite value >= 0");
  RECUR_CHECK(finite(weight_decay) && weight_decay >= 0,
              who << ": weight_decay is " << weight_decay << "; expected a finite value >= 0");
  RECUR_CHECK(finite(l1) && l1 >= 0, who << ": l1 is " << l1 << "; expected a finite value >= 0");
  if (kind == OptimizerKind::kSgd) {
    RECUR_CHECK(momentum >= 0 && momentum < 1,
                who << ": momentum is " << momentum << "; expected 0 <= momentum < 1");
    RECUR_CHECK(dampening >= 0 && dampening <= 1,
                who << ": dampening is " << dampening << "; expected 0 <= dampening <= 1");
    RECUR_CHECK(!nesterov || (momentum > 0 && dampening == 0),
                who << ": nesterov needs momentum > 0 and dampening = 0 (got momentum " << momentum
                    << ", dampening " << dampening << ")");
    return;
  }
  RECUR_CHECK(momentum == 0 && dampening == 0 && !nesterov,
              who << ": momentum, dampening and nesterov are SGD options; " << who
                  << " uses beta1 (got momentum " << momentum << ", dampening " << dampening
                  << ", nesterov " << nesterov << ")");
  RECUR_CHECK(beta1 >= 0 && beta1 < 1,
              who << ": beta1 is " << beta1 << "; expected 0 <= beta1 < 1");
  RECUR_CHECK(beta2 >= 0 && beta2 < 1,
              who << ": beta2 is " << beta2 << "; expected 0 <= beta2 < 1");
  RECUR_CHECK(finite(eps) && eps >= 0,
              who << ": eps is " << eps << "; expected a finite value >= 0");
}

template <class T>
Optimizer<T>::Optimizer(const OptimizerConfig& config) : cfg_(config) {
  cfg_.validate();
}

template <class T>
void Optimizer<T>::set_lr(double lr) {
  OptimizerConfig c = cfg_;
  c.lr = lr;
  c.validate();
  cfg_ = c;
}

template <class T>
Tensor<T>& Optimizer<T>::slot(const Param<T>& p, const std::string& suffix, bool* created) {
  auto [it, inserted] = state_.try_emplace(p.name + suffix);
  if (inserted) it->second = Tensor<T>(p.value->shape);
  if (created) *created = inserted;
  return it->second;
}

template <class T>
void Optimizer<T>::verify_slots(const std::vector<Param<T>>& params) const {
  std::map<std::string, const Tensor<T>*> by_name;
  for (const Param<T>& p : params) by_name[p.name] = p.value;
  for (const auto& [key, t] : state_) {
    if (key == "step") continue;
    const size_t dot = key.rfind('.');
    const auto it = by_name.find(key.substr(0, dot));
    RECUR_CHECK(it != by_name.end(),
                "optimizer state '" << key << "' names no parameter in the list being stepped");
    RECUR_CHECK(t.shape == it->second->shape, "optimizer state '" << key << "' has shape "
                                                                  << t.shape_string()
                                                                  << " but the parameter has shape "
                                                                  << it->second->shape_string());
  }
}

template <class T>
void Optimizer<T>::step(const std::vector<Param<T>>& params) {
  check_params(params);
  if (verify_on_step_) {
    verify_slots(params);
    verify_on_step_ = false;
  }
  ++step_;
  for (const Param<T>& p : params) {
    if (cfg_.kind == OptimizerKind::kSgd) {
      step_sgd(p);
    } else {
      step_adam(p);
    }
  }
}

template <class T>
void Optimizer<T>::step_sgd(const Param<T>& p) {
  const int64_t n = p.value->numel();
  T* w = p.value->ptr();
  const T* g = p.grad->ptr();
  const T l1 = T(cfg_.l1), wd = T(cfg_.weight_decay), mom = T(cfg_.momentum);
  const T keep = T(1 - cfg_.dampening), neg_lr = T(-cfg_.lr);
  bool first = false;
  T* buf = cfg_.momentum != 0 ? slot(p, kMomentum, &first).ptr() : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    T d = g[i];
    if (cfg_.l1 != 0) d += l1 * sign(w[i]);
    if (cfg_.weight_decay != 0) d += wd * w[i];
    if (buf) {
      buf[i] = first ? d : mom * buf[i] + keep * d;
      d = cfg_.nesterov ? d + mom * buf[i] : buf[i];
    }
    w[i] += neg_lr * d;
  }
}

template <class T>
void Optimizer<T>::step_adam(const Param<T>& p) {
  const bool decoupled = cfg_.kind == OptimizerKind::kAdamW;
  const double t = double(step_);
  const double bc1 = 1 - std::pow(cfg_.beta1, t), bc2 = 1 - std::pow(cfg_.beta2, t);
  const T neg_step_size = T(-(cfg_.lr / bc1)), bc2_sqrt = T(std::sqrt(bc2));
  const T l1 = T(cfg_.l1), wd = T(cfg_.weight_decay), decay = T(1 - cfg_.lr * cfg_.weight_decay);
  const T b1 = T(cfg_.beta1), b2 = T(cfg_.beta2), c1 = T(1 - cfg_.beta1), c2 = T(1 - cfg_.beta2);
  const T eps = T(cfg_.eps);
  const int64_t n = p.value->numel();
  T* w = p.value->ptr();
  const T* g = p.grad->ptr();
  T* m = slot(p, kExpAvg, nullptr).ptr();
  T* v = slot(p, kExpAvgSq, nullptr).ptr();
  for (int64_t i = 0; i < n; ++i) {
    T d = g[i];
    if (cfg_.l1 != 0) d += l1 * sign(w[i]);
    if (cfg_.weight_decay != 0) {
      if (decoupled) {
        w[i] *= decay;
      } else {
        d += wd * w[i];
      }
    }
    m[i] = b1 * m[i] + c1 * d;
    v[i] = b2 * v[i] + c2 * d * d;
    w[i] += neg_step_size * m[i] / (std::sqrt(v[i]) / bc2_sqrt + eps);
  }
}

template <class T>
typename Optimizer<T>::State Optimizer<T>::export_state() const {
  RECUR_CHECK(int64_t(T(step_)) == step_, "optimizer step count "
                                              << step_
                                              << " is not exactly representable in the state's "
                                                 "element type; use a double optimizer");
  State out = state_;
  out["step"] = Tensor<T>({1}, {T(step_)});
  return out;
}

template <class T>
void Optimizer<T>::import_state(const State& state) {
  const auto it = state.find("step");
  RECUR_CHECK(it != state.end(), "optimizer state has no 'step' entry");
  RECUR_CHECK(it->second.numel() == 1, "optimizer state 'step' has shape "
                                           << it->second.shape_string() << "; expected (1,)");
  const T s = it->second[0];
  RECUR_CHECK(s >= T(0) && s == std::floor(s),
              "optimizer state 'step' is " << s << "; expected a non-negative integer");
  const bool sgd = cfg_.kind == OptimizerKind::kSgd;
  std::set<std::string> adam_moments;
  for (const auto& [key, t] : state) {
    if (key == "step") continue;
    const bool ok = sgd ? (cfg_.momentum != 0 && ends_with(key, kMomentum))
                        : (ends_with(key, kExpAvg) || ends_with(key, kExpAvgSq));
    RECUR_CHECK(ok, "optimizer state '" << key << "' is not a slot of "
                                        << optimizer_kind_name(cfg_.kind)
                                        << (sgd && cfg_.momentum == 0 ? " without momentum" : ""));
    if (!sgd) adam_moments.insert(key);
  }
  for (const std::string& key : adam_moments) {
    const std::string base = ends_with(key, kExpAvgSq)
                                 ? key.substr(0, key.size() - std::string(kExpAvgSq).size())
                                 : key.substr(0, key.size() - std::string(kExpAvg).size());
    RECUR_CHECK(adam_moments.count(base + kExpAvg) && adam_moments.count(base + kExpAvgSq),
                "optimizer state has only one of '" << base << kExpAvg << "' and '" << base
                                                    << kExpAvgSq << "'");
  }
  state_ = state;
  state_.erase("step");
  step_ = int64_t(s);
  verify_on_step_ = true;
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace recur
