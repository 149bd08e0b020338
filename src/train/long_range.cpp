// The long-range memory suite (recur/train/long_range.h): one layer and a readout trained on fresh
// adding/copy sequences, or an ESN's ridge readout, until solved or out of budget.
#include "recur/train/long_range.h"

#include <chrono>
#include <cmath>

#include "recur/core/enum_names.h"
#include "recur/core/error.h"
#include "recur/core/linalg.h"
#include "recur/data/synthetic.h"
#include "recur/layers/clockwork.h"
#include "recur/layers/deep_transition.h"
#include "recur/layers/skip_rnn.h"
#include "recur/layers/rnn.h"
#include "recur/models/esn.h"
#include "recur/nn/linear.h"
#include "recur/nn/loss.h"
#include "recur/train/clip.h"
#include "recur/train/optimizer.h"
#include "recur/train/param.h"

namespace recur {

constexpr EnumNames<LongRangeTask, 2> kLongRangeTaskNames{
    {{LongRangeTask::adding, "adding"}, {LongRangeTask::copy, "copy"}}};
constexpr EnumNames<LongRangeModel, 10> kLongRangeModelNames{
    {{LongRangeModel::tanh, "tanh"},
     {LongRangeModel::irnn, "irnn"},
     {LongRangeModel::lstm, "lstm"},
     {LongRangeModel::gru, "gru"},
     {LongRangeModel::leaky, "leaky"},
     {LongRangeModel::clockwork, "clockwork"},
     {LongRangeModel::esn, "esn"},
     {LongRangeModel::skip, "skip"},
     {LongRangeModel::deep, "deep"},
     {LongRangeModel::lnlstm, "lnlstm"}}};

const char* long_range_task_name(LongRangeTask t) { return enum_name(kLongRangeTaskNames, t); }
LongRangeTask parse_long_range_task(const std::string& name) {
  return parse_enum(kLongRangeTaskNames, name, "task");
}

const char* long_range_model_name(LongRangeModel m) { return enum_name(kLongRangeModelNames, m); }
LongRangeModel parse_long_range_model(const std::string& name) {
  return parse_enum(kLongRangeModelNames, name, "model");
}

bool long_range_solved(LongRangeTask task, double metric) {
  return task == LongRangeTask::adding ? metric < 0.01 : metric >= 0.9;
}

namespace {

using Clock = std::chrono::steady_clock;

int64_t task_inputs(LongRangeTask t) { return t == LongRangeTask::adding ? 2 : CopyBatch::kInputs; }
int64_t task_outputs(LongRangeTask t) { return t == LongRangeTask::adding ? 1 : CopyBatch::kClasses; }

// One batch of either task: inputs (L,N,I), and the targets of its kind.
struct TaskBatch {
  Tensor<float> x;
  std::vector<float> sums;       // adding: (N)
  std::vector<int64_t> classes;  // copy: (L*N)
};

TaskBatch make_batch(LongRangeTask task, int64_t T, int64_t N, Rng& rng) {
  if (task == LongRangeTask::adding) {
    AddingBatch b = adding_problem(T, N, rng);
    return {std::move(b.x), std::move(b.y), {}};
  }
  CopyBatch b = copy_task(T, N, rng);
  return {std::move(b.x), {}, std::move(b.target)};
}

// A recurrent layer (the engine's RNN, or one of the layers with their own time loop) and a linear
// readout.
enum class LayerKind { engine, clockwork, skip, deep };

struct Net : NamedParams<Net, float> {
  LayerKind kind = LayerKind::engine;
  RnnParams<float> rnn;
  ClockworkParams<float> cw;
  SkipRnnParams<float> skip;
  DeepTransitionParams<float> deep;
  Tensor<float> w_out, b_out;

  // The layer's own names (unprefixed), then the readout's.
  static void visit_params(auto& self, auto&& f) {
    switch (self.kind) {
      case LayerKind::engine: for_each_param(self.rnn, f); break;
      case LayerKind::clockwork: for_each_param(self.cw, f); break;
      case LayerKind::skip: for_each_param(self.skip, f); break;
      case LayerKind::deep: for_each_param(self.deep, f); break;
    }
    f("w_out", self.w_out);
    f("b_out", self.b_out);
  }
};

RnnConfig layer_config(LongRangeModel model, int64_t I, int64_t H) {
  RnnConfig c;
  c.input_size = I;
  c.hidden_size = H;
  switch (model) {
    case LongRangeModel::irnn: c.cell = CellKind::rnn_relu; break;
    case LongRangeModel::lstm: c.cell = CellKind::lstm; break;
    case LongRangeModel::gru: c.cell = CellKind::gru; break;
    case LongRangeModel::lnlstm:
      c.cell = CellKind::lstm;
      c.layer_norm = true;
      break;
    case LongRangeModel::leaky:
      c.cell = CellKind::rnn_tanh;
      c.leak = 0.1;
      c.learn_leak = true;
      break;
    default: c.cell = CellKind::rnn_tanh;
  }
  return c;
}

Net make_net(LongRangeModel model, LongRangeTask task, const LongRangeOptions& o, Rng& rng) {
  const int64_t I = task_inputs(task), H = o.hidden, O = task_outputs(task);
  Net n;
  if (model == LongRangeModel::clockwork) {
    int64_t g = 8;
    while (H % g) --g;
    ClockworkConfig c{I, H, {}};
    for (int64_t i = 0; i < g; ++i) c.periods.push_back(int64_t(1) << i);
    n.kind = LayerKind::clockwork;
    n.cw = ClockworkParams<float>(c);
    init_clockwork(n.cw, rng);
  } else if (model == LongRangeModel::skip) {
    n.kind = LayerKind::skip;
    n.skip = SkipRnnParams<float>(SkipRnnConfig{I, H, 10, true});
    init_skip_rnn(n.skip, rng);
  } else if (model == LongRangeModel::deep) {
    n.kind = LayerKind::deep;
    n.deep = DeepTransitionParams<float>(DeepTransitionConfig{I, H, 2, true});
    init_deep_transition(n.deep, rng);
  } else {
    n.rnn = RnnParams<float>(layer_config(model, I, H));
    init_rnn(n.rnn, rng, model == LongRangeModel::irnn ? RecurrentInit::identity : RecurrentInit::uniform);
  }
  n.w_out = Tensor<float>({O, H});
  n.b_out = Tensor<float>({O});
  init_linear_uniform(n.w_out, n.b_out, rng);
  return n;
}

// Forward over a batch: the layer's outputs y (L,N,H), with what backward needs.
struct Pass {
  Tensor<float> y;
  RnnCache<float> rnn_cache;
  ClockworkCache<float> cw_cache;
  SkipRnnCache<float> skip_cache;
  DeepTransitionCache<float> deep_cache;
};

void layer_forward(Net& n, const Tensor<float>& x, Pass& p) {
  switch (n.kind) {
    case LayerKind::clockwork: {
      Tensor<float> hT;
      clockwork_forward(p.y, hT, p.cw_cache, n.cw, x, nullptr);
      break;
    }
    case LayerKind::skip: skip_rnn_forward(p.y, p.skip_cache, n.skip, x); break;
    case LayerKind::deep: deep_transition_forward(p.y, p.deep_cache, n.deep, x); break;
    case LayerKind::engine: {
      RnnState<float> fin;
      rnn_forward(p.y, fin, p.rnn_cache, n.rnn, x, {}, nullptr);
    }
  }
}

void layer_backward(Net& n, Net& g, const Pass& p, const Tensor<float>& dy) {
  Tensor<float> dx;
  switch (n.kind) {
    case LayerKind::clockwork: {
      Tensor<float> dh0;
      clockwork_backward(dx, dh0, g.cw, p.cw_cache, n.cw, dy, nullptr);
      break;
    }
    case LayerKind::skip: skip_rnn_backward(dx, g.skip, p.skip_cache, n.skip, dy); break;
    case LayerKind::deep: deep_transition_backward(dx, g.deep, p.deep_cache, n.deep, dy); break;
    case LayerKind::engine: {
      RnnState<float> dinit;
      rnn_backward(dx, dinit, g.rnn, p.rnn_cache, n.rnn, dy, nullptr);
    }
  }
}

// The readout and loss. With `g`, also the gradients (layer included). Returns the loss; `metric`
// receives the task's measure (adding: MSE; copy: recall accuracy).
double loss_and_metric(Net& n, Net* g, LongRangeTask task, const TaskBatch& b, double& metric) {
  Pass p;
  layer_forward(n, b.x, p);
  const int64_t L = p.y.dim(0), N = p.y.dim(1), H = p.y.dim(2), O = n.w_out.dim(0);
  Tensor<float> dy;
  if (g) dy = Tensor<float>({L, N, H});
  double loss = 0;
  if (task == LongRangeTask::adding) {
    const float* last = p.y.ptr() + (L - 1) * N * H;
    std::vector<float> pred(static_cast<size_t>(N)), dpred(static_cast<size_t>(N));
    linear_forward(pred.data(), last, n.w_out.ptr(), n.b_out.ptr(), N, H, O);
    for (int64_t i = 0; i < N; ++i) {
      const double e = pred[size_t(i)] - b.sums[size_t(i)];
      loss += e * e / double(N);
      dpred[size_t(i)] = float(2 * e / double(N));
    }
    metric = loss;
    if (g) linear_backward(dy.ptr() + (L - 1) * N * H, g->w_out.ptr(), g->b_out.ptr(), dpred.data(),
                           last, n.w_out.ptr(), N, H, O);
  } else {
    const int64_t rows = L * N;
    Tensor<float> logits({rows, O}), dlogits({rows, O});
    linear_forward(logits.ptr(), p.y.ptr(), n.w_out.ptr(), n.b_out.ptr(), rows, H, O);
    loss = softmax_cross_entropy(g ? dlogits.ptr() : nullptr, logits.ptr(), b.classes.data(), rows, O);
    int64_t right = 0, total = 0;
    for (int64_t t = L - CopyBatch::kRecall; t < L; ++t)
      for (int64_t i = 0; i < N; ++i) {
        const float* r = logits.ptr() + (t * N + i) * O;
        const int64_t best = std::max_element(r, r + O) - r;
        right += best == b.classes[size_t(t * N + i)];
        ++total;
      }
    metric = double(right) / double(total);
    if (g) linear_backward(dy.ptr(), g->w_out.ptr(), g->b_out.ptr(), dlogits.ptr(), p.y.ptr(),
                           n.w_out.ptr(), rows, H, O);
  }
  if (g) layer_backward(n, *g, p, dy);
  return loss;
}

LongRangeResult run_esn(LongRangeTask task, int64_t T, const LongRangeOptions& o) {
  const auto t0 = Clock::now();
  EsnConfig c;
  c.inputs = task_inputs(task);
  c.units = o.esn_units;
  c.spectral_radius = 0.99;
  c.seed = o.seed;
  const Esn m = make_esn(c);
  Rng rng(o.seed * 7919 + uint64_t(T));
  // Features per scored step: [1; x_t]. Adding: the last step; copy: the 10 recall steps.
  auto features = [&](const TaskBatch& b, Tensor<double>& Z, Tensor<double>& Y, bool fill_targets) {
    const int64_t L = b.x.dim(0), N = b.x.dim(1), I = b.x.dim(2), D = 1 + c.units;
    const int64_t per = task == LongRangeTask::adding ? 1 : CopyBatch::kRecall;
    const int64_t O = task_outputs(task);
    Z = Tensor<double>({N * per, D});
    Y = Tensor<double>({N * per, O});
    for (int64_t n = 0; n < N; ++n) {
      Tensor<double> U({L, I});
      for (int64_t t = 0; t < L; ++t)
        for (int64_t i = 0; i < I; ++i) U[t * I + i] = b.x[(t * N + n) * I + i];
      EsnState s = esn_zero_state(m);
      const Tensor<double> X = esn_states(m, s, U);
      for (int64_t k = 0; k < per; ++k) {
        const int64_t t = L - per + k, row = n * per + k;
        Z[row * D] = 1;
        std::copy_n(X.ptr() + t * c.units, c.units, Z.ptr() + row * D + 1);
        if (!fill_targets) continue;
        if (task == LongRangeTask::adding) Y[row] = b.sums[size_t(n)];
        else Y[row * O + b.classes[size_t(t * N + n)]] = 1;
      }
    }
  };
  // The metric of readout W (D,O) on features Z and targets Y.
  auto score = [&](const Tensor<double>& W, const Tensor<double>& Zs, const Tensor<double>& Ys) {
    const int64_t D = W.dim(0), O = W.dim(1), R = Zs.dim(0);
    double se = 0;
    int64_t right = 0;
    for (int64_t r = 0; r < R; ++r) {
      int64_t best = 0;
      double best_v = -1e300;
      for (int64_t j = 0; j < O; ++j) {
        double v = 0;
        for (int64_t d = 0; d < D; ++d) v += Zs[r * D + d] * W[d * O + j];
        if (task == LongRangeTask::adding) se += (v - Ys[r]) * (v - Ys[r]);
        if (v > best_v) best_v = v, best = j;
      }
      right += Ys[r * O + best] == 1;
    }
    return task == LongRangeTask::adding ? se / double(R) : double(right) / double(R);
  };
  auto better = [&](double a, double b) { return task == LongRangeTask::adding ? a < b : a > b; };
  // The ridge is chosen on a validation set of fresh sequences (a fifth of the training count),
  // from 1e-8 to 1e2, then the readout is refitted on the training sequences with it.
  Tensor<double> Z, Y, Zv, Yv, Zt, Yt;
  const TaskBatch train = make_batch(task, T, o.esn_train_sequences, rng);
  features(train, Z, Y, true);
  const TaskBatch val = make_batch(task, T, std::max<int64_t>(1, o.esn_train_sequences / 5), rng);
  features(val, Zv, Yv, true);
  // A ridge too small for collinear features fails its Cholesky solve and is skipped.
  double best_ridge = 1e2, best_val = 0;
  bool any = false;
  for (double ridge = 1e-8; ridge <= 1e2 * 1.0001; ridge *= 10) {
    double v = 0;
    try {
      v = score(ridge_regression(Z, Y, ridge), Zv, Yv);
    } catch (const Error&) {
      continue;
    }
    if (!any || better(v, best_val)) best_ridge = ridge, best_val = v, any = true;
  }
  const Tensor<double> W = ridge_regression(Z, Y, best_ridge);  // (D,O)
  Rng test_rng(o.seed + 1000003);
  const TaskBatch test = make_batch(task, T, o.test_sequences, test_rng);
  features(test, Zt, Yt, true);
  LongRangeResult res;
  res.metric = score(W, Zt, Yt);
  res.solved = long_range_solved(task, res.metric);
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  res.curve.push_back({0, res.metric});
  return res;
}

}  // namespace

LongRangeResult run_long_range(LongRangeModel model, LongRangeTask task, int64_t T,
                               const LongRangeOptions& o) {
  RECUR_CHECK(T >= 2, "the delay T must be >= 2, got " << T);
  RECUR_CHECK(o.hidden >= 1 && o.batch >= 1 && o.max_steps >= 1 && o.eval_every >= 1 &&
                  o.test_sequences >= 1 && o.budget_seconds > 0,
              "long-range suite: sizes, steps and budget must be positive");
  if (model == LongRangeModel::esn) return run_esn(task, T, o);
  const auto t0 = Clock::now();
  Rng rng(o.seed);
  Net net = make_net(model, task, o, rng);
  Net grads = net;
  const auto params = pair_params(net.named(), grads.named());
  OptimizerConfig oc;
  oc.kind = OptimizerKind::kAdam;
  oc.lr = o.lr;
  Optimizer<float> opt(oc);
  Rng test_rng(o.seed + 1000003);
  const TaskBatch test = make_batch(task, T, o.test_sequences, test_rng);
  Rng data(o.seed * 7919 + uint64_t(T));
  LongRangeResult r;
  for (int64_t step = 1; step <= o.max_steps; ++step) {
    for (auto& p : params) p.grad->fill(0.0f);
    const TaskBatch b = make_batch(task, T, o.batch, data);
    double metric = 0;
    loss_and_metric(net, &grads, task, b, metric);
    if (o.clip > 0) clip_grad_norm(params, float(o.clip));
    opt.step(params);
    r.steps = step;
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    const bool out_of_time = elapsed >= o.budget_seconds;
    if (step % o.eval_every == 0 || step == o.max_steps || out_of_time) {
      loss_and_metric(net, nullptr, task, test, r.metric);
      r.curve.push_back({step, r.metric});
      if (!std::isfinite(r.metric)) break;
      if (long_range_solved(task, r.metric)) {
        r.solved = true;
        break;
      }
    }
    if (out_of_time) break;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

GradientFlow long_range_initial_flow(LongRangeModel model, LongRangeTask task, int64_t T,
                                     const LongRangeOptions& o) {
  RECUR_CHECK(model != LongRangeModel::clockwork && model != LongRangeModel::esn &&
                  model != LongRangeModel::skip && model != LongRangeModel::deep,
              "the gradient flow is drawn for the engine's layers (tanh, irnn, lstm, gru, leaky, lnlstm)");
  Rng rng(o.seed);
  Net net = make_net(model, task, o, rng);
  const RnnParams<double> p = rnn_params_cast<double>(net.rnn);
  Rng test_rng(o.seed + 1000003);
  const TaskBatch b = make_batch(task, T, 1, test_rng);
  const Tensor<double> x = tensor_cast<double>(b.x);
  Tensor<double> y;
  RnnState<double> fin;
  RnnCache<double> cache;
  rnn_forward(y, fin, cache, p, x, {}, nullptr);
  Tensor<double> g({o.hidden});
  double norm = 0;
  for (auto& v : g.data) v = rng.normal(), norm += v * v;
  for (auto& v : g.data) v /= std::sqrt(norm);
  GradientFlowOptions fo;
  fo.jacobians = false;
  return gradient_flow(p, cache, 0, g, {}, fo);
}

}  // namespace recur
