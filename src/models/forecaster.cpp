// Forecaster: the training graph of both strategies, forward and backward side by side, and the
// forecasts (direct, or rolled forward). Equations and shapes in recur/models/forecaster.h.
//
// Key: S = steps read, B = batch, I = input columns, Hd = hidden size, H = horizon, O = outputs.
// Gradient rule: parameter gradients accumulate (+=), activation gradients are assigned (=).
#include "recur/models/forecaster.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "recur/core/enum_names.h"
#include "recur/io/metadata.h"
#include "recur/models/named_tensors.h"
#include "recur/nn/linear.h"

namespace recur {

constexpr EnumNames<ForecastStrategy, 2> kForecastStrategyNames{
    {{ForecastStrategy::direct, "direct"}, {ForecastStrategy::recursive, "recursive"}}};

ForecastStrategy parse_forecast_strategy(const std::string& name) {
  return parse_enum(kForecastStrategyNames, name, "forecast strategy");
}
const char* forecast_strategy_name(ForecastStrategy s) {
  return enum_name(kForecastStrategyNames, s);
}

int64_t ForecasterConfig::step_outputs() const {
  return strategy == ForecastStrategy::direct ? targets : inputs();
}

int64_t ForecasterConfig::outputs() const {
  return strategy == ForecastStrategy::direct ? horizon * targets : inputs();
}

double parameter_count(const ForecasterConfig& c) {
  // O in double: outputs() multiplies in int64.
  const double O = c.strategy == ForecastStrategy::direct ? double(c.horizon) * double(c.targets)
                                                        : double(c.inputs());
  return parameter_count(c.rnn) + O * double(c.rnn.output_size()) + O;
}

void ForecasterConfig::validate() const {
  rnn.validate();
  RECUR_CHECK(!rnn.any_bidirectional(),
              "a forecaster reads the past forwards: a bidirectional encoder is refused (the "
              "recursive model would see the values it is asked to predict)");
  RECUR_CHECK(strategy == ForecastStrategy::direct || !rnn.any_own_loop(),
              "the recursive forecaster steps its state one prediction at a time, and a clockwork, "
              "skip or deep layer runs its own time loop over a whole sequence; use the direct strategy");
  RECUR_CHECK(horizon >= 1, "the forecast horizon must be >= 1, got " << horizon);
  RECUR_CHECK(targets >= 1, "a forecaster needs at least one target column, got " << targets);
  const bool skip = residual && strategy == ForecastStrategy::direct;
  RECUR_CHECK(int64_t(target_inputs.size()) == (skip ? targets : 0),
              "a direct residual forecaster needs the input column of each of its "
                  << targets << " targets (" << target_inputs.size()
                  << " given); other forecasters none");
  for (int64_t i : target_inputs)
    RECUR_CHECK(i >= 0 && i < inputs(),
                "target input column " << i << " is not one of the " << inputs() << " inputs");
}

std::map<std::string, std::string> ForecasterConfig::to_metadata() const {
  auto m = rnn.to_metadata();
  m["strategy"] = forecast_strategy_name(strategy);
  m["horizon"] = std::to_string(horizon);
  m["targets"] = std::to_string(targets);
  m["residual"] = residual ? "true" : "false";
  m["target_inputs"] = nlohmann::json(target_inputs).dump();
  return m;
}

ForecasterConfig ForecasterConfig::from_metadata(const std::map<std::string, std::string>& meta) {
  auto get = [&](const char* k) { return metadata_string(meta, k, "forecaster"); };
  auto num = [&](const char* k) { return metadata_int(meta, k, "forecaster"); };
  ForecasterConfig c;
  c.rnn = RnnConfig::from_metadata(meta);
  c.strategy = parse_forecast_strategy(get("strategy"));
  c.horizon = num("horizon");
  c.targets = num("targets");
  const std::string residual = get("residual");
  RECUR_CHECK(residual == "true" || residual == "false",
              "forecaster metadata 'residual' = '" << residual << "'; expected true or false");
  c.residual = residual == "true";
  try {
    c.target_inputs = nlohmann::json::parse(get("target_inputs")).get<std::vector<int64_t>>();
  } catch (const nlohmann::json::exception&) {
    RECUR_FAIL("forecaster metadata 'target_inputs' = '" << get("target_inputs")
                                                         << "' is not a JSON list of integers");
  }
  c.validate();
  return c;
}

template <class T>
Forecaster<T>::Forecaster(const ForecasterConfig& cfg) : config(cfg), rnn(cfg.rnn) {
  cfg.validate();
  w_out = Tensor<T>({cfg.outputs(), cfg.rnn.output_size()});
  b_out = Tensor<T>({cfg.outputs()});
}

template <class T>
void init_forecaster(Forecaster<T>& m, Rng& rng, RecurrentInit scheme) {
  init_rnn(m.rnn, rng, scheme);
  init_linear_uniform(m.w_out, m.b_out, rng);
}

namespace {
// The residual skip: direct: pred (B,H,K) += the targets' values in x_last (B,I); recursive:
// pred (N,I) += x (N,I), each step's own input.
template <class T>
void add_last_values(T* pred, const T* x, const ForecasterConfig& c, int64_t N) {
  const int64_t I = c.inputs();
  if (c.strategy == ForecastStrategy::recursive) {
    for (int64_t n = 0; n < N * I; ++n) pred[n] += x[n];
    return;
  }
  const int64_t K = c.targets;
  for (int64_t b = 0; b < N; ++b)
    for (int64_t h = 0; h < c.horizon; ++h)
      for (int64_t k = 0; k < K; ++k)
        pred[(b * c.horizon + h) * K + k] += x[b * I + c.target_inputs[size_t(k)]];
}
}  // namespace

int64_t forecaster_training_steps(const ForecasterConfig& c, int64_t window) {
  return c.strategy == ForecastStrategy::direct ? window : window + c.horizon - 1;
}

template <class T>
T forecaster_batch(const Forecaster<T>& model, Forecaster<T>* grads, const Tensor<T>& x,
                   const Tensor<T>& y, RegressionLoss loss, const RnnRunOptions& opt) {
  const ForecasterConfig& c = model.config;
  const int64_t I = c.inputs(), Hd = c.rnn.output_size(), O = c.outputs();
  RECUR_CHECK(x.rank() == 3 && x.dim(0) > 0 && x.dim(1) > 0 && x.dim(2) == I,
              "forecaster input has shape " << x.shape_string() << "; expected (S,B," << I << ")");
  const int64_t S = x.dim(0), B = x.dim(1);
  const bool direct = c.strategy == ForecastStrategy::direct;
  const Shape want_y = direct ? Shape{B, c.horizon, c.targets} : Shape{S, B, I};
  RECUR_CHECK(y.shape == want_y, "forecaster targets have shape "
                                     << y.shape_string() << "; expected " << shape_str(want_y));

  // Forward: o (S,B,Hd); the head reads the last step (direct: rows = B) or every step (S*B).
  Tensor<T> o, dx;
  RnnState<T> fin, dinit;
  RnnCache<T> cache;
  rnn_forward(o, fin, cache, model.rnn, x, {}, nullptr, opt.with_inference(!grads));
  const int64_t N = direct ? B : S * B;
  const T* head_in = direct ? o.ptr() + (S - 1) * B * Hd : o.ptr();
  Tensor<T> pred({N, O});
  linear_forward(pred.ptr(), head_in, model.w_out.ptr(), model.b_out.ptr(), N, Hd, O);
  if (c.residual) add_last_values(pred.ptr(), x.ptr() + (direct ? (S - 1) * B * I : 0), c, N);
  Tensor<T> dpred;
  if (grads) dpred = Tensor<T>({N, O});
  const T value = regression_loss(grads ? dpred.ptr() : nullptr, pred.ptr(), y.ptr(), N * O, loss);
  if (!grads) return value;

  // Backward: do (S,B,Hd) is zero where the head did not read (direct: every step but the last).
  Tensor<T> d_o({S, B, Hd});
  T* dhead_in = direct ? d_o.ptr() + (S - 1) * B * Hd : d_o.ptr();
  linear_backward(dhead_in, grads->w_out.ptr(), grads->b_out.ptr(), dpred.ptr(), head_in,
                  model.w_out.ptr(), N, Hd, O);
  rnn_backward(dx, dinit, grads->rnn, cache, model.rnn, d_o, nullptr);
  return value;
}

template <class T>
Tensor<T> forecaster_predict(const Forecaster<T>& model, const Tensor<T>& x) {
  const ForecasterConfig& c = model.config;
  const int64_t I = c.inputs(), Hd = c.rnn.output_size(), O = c.outputs(), H = c.horizon;
  RECUR_CHECK(x.rank() == 3 && x.dim(0) > 0 && x.dim(2) == I,
              "forecaster input has shape " << x.shape_string() << "; expected (W,B," << I << ")");
  const int64_t W = x.dim(0), B = x.dim(1);
  Tensor<T> o;
  RnnState<T> state;
  RnnCache<T> cache;
  rnn_forward(o, state, cache, model.rnn, x, {}, nullptr, RnnRunOptions().with_inference(true));
  if (c.strategy == ForecastStrategy::direct) {  // (B, H*K) is (B,H,K)
    Tensor<T> pred({B, H, c.targets});
    linear_forward(pred.ptr(), o.ptr() + (W - 1) * B * Hd, model.w_out.ptr(), model.b_out.ptr(), B,
                   Hd, O);
    if (c.residual) add_last_values(pred.ptr(), x.ptr() + (W - 1) * B * I, c, B);
    return pred;
  }
  // Recursive: step h's prediction (B,I) is step h+1's input; the state carries on.
  Tensor<T> out({B, H, I}), step_in({1, B, I}), o_last({B, Hd}), last_in({B, I});
  std::copy_n(o.ptr() + (W - 1) * B * Hd, B * Hd, o_last.ptr());
  std::copy_n(x.ptr() + (W - 1) * B * I, B * I, last_in.ptr());
  for (int64_t h = 0; h < H; ++h) {
    linear_forward(step_in.ptr(), o_last.ptr(), model.w_out.ptr(), model.b_out.ptr(), B, Hd, I);
    if (c.residual) {
      add_last_values(step_in.ptr(), last_in.ptr(), c, B);
      std::copy_n(step_in.ptr(), B * I, last_in.ptr());
    }
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(step_in.ptr() + b * I, I, out.ptr() + (b * H + h) * I);
    if (h + 1 == H) break;
    RnnState<T> next;
    rnn_forward(o_last, next, cache, model.rnn, step_in, {}, &state,
                RnnRunOptions().with_inference(true));
    state = std::move(next);  // o_last is now (1,B,Hd): the same B*Hd values
  }
  return out;
}

#define RECUR_INSTANTIATE(T)                                                              \
  template struct Forecaster<T>;                                                          \
  template void init_forecaster<T>(Forecaster<T>&, Rng&, RecurrentInit);                  \
  template T forecaster_batch<T>(const Forecaster<T>&, Forecaster<T>*, const Tensor<T>&,  \
                                 const Tensor<T>&, RegressionLoss, const RnnRunOptions&); \
  template Tensor<T> forecaster_predict<T>(const Forecaster<T>&, const Tensor<T>&);
RECUR_INSTANTIATE(float)
RECUR_INSTANTIATE(double)
#undef RECUR_INSTANTIATE

}  // namespace recur
