// Fitting a Jordan network to a series (recur/train/jordan_trainer.h).
#include "recur/train/jordan_trainer.h"

#include <chrono>
#include <cmath>

#include "recur/core/error.h"
#include "recur/train/optimizer.h"
#include "recur/train/param.h"

namespace recur {

JordanSeriesResult fit_jordan_series(JordanParams<double>& p, const std::vector<double>& series,
                                     int64_t train, int64_t horizon, int64_t starts,
                                     const JordanSeriesOptions& o) {
  const int64_t N = int64_t(series.size());
  RECUR_CHECK(p.config.input_size == 1 && p.config.output_size == 1,
              "fit_jordan_series: the network must have one input and one output");
  RECUR_CHECK(train >= 2 && horizon >= 1 && starts >= 1 && train + horizon + 1 <= N,
              "fit_jordan_series: " << N << " values cannot hold " << train << " training steps and a horizon of "
                                    << horizon);
  const auto t0 = std::chrono::steady_clock::now();
  // Step t reads the constant input and y_{t-1} = series[t], and must output series[t+1].
  auto stretch = [&](int64_t from, int64_t count, Tensor<double>& x, Tensor<double>& fed, Tensor<double>& target) {
    x = Tensor<double>({count, 1, 1}, 1.0);
    fed = Tensor<double>({count, 1, 1});
    target = Tensor<double>({count, 1, 1});
    for (int64_t t = 0; t < count; ++t) fed[t] = series[size_t(from + t)], target[t] = series[size_t(from + t + 1)];
  };
  Tensor<double> x, fed, target;
  stretch(0, train - 1, x, fed, target);
  JordanParams<double> g(p.config);
  OptimizerConfig oc;
  oc.kind = OptimizerKind::kAdam;
  oc.lr = o.lr;
  Optimizer<double> opt(oc);
  const auto params = pair_params(p.named(), g.named());
  const int64_t T = x.dim(0);
  for (int64_t step = 0; step < o.steps; ++step) {
    Tensor<double> y, dx, dfed;
    JordanCache<double> c;
    jordan_forward(y, c, p, x, fed);
    Tensor<double> dy({T, 1, 1});
    for (int64_t t = 0; t < T; ++t) dy[t] = 2 * (y[t] - target[t]) / double(T);
    for (auto& q : params) q.grad->fill(0.0);
    jordan_backward(dx, dfed, g, c, p, dy);
    opt.step(params);
  }
  // Held out: the variance of the held-out values normalises both errors.
  const int64_t held = N - train;
  double mean = 0, var = 0;
  for (int64_t t = train; t < N; ++t) mean += series[size_t(t)] / double(held);
  for (int64_t t = train; t < N; ++t) var += (series[size_t(t)] - mean) * (series[size_t(t)] - mean) / double(held);
  JordanSeriesResult r;
  {
    Tensor<double> y;
    JordanCache<double> c;
    stretch(train - 1, held, x, fed, target);
    jordan_forward(y, c, p, x, fed);
    double se = 0;
    for (int64_t t = 0; t < held; ++t) se += (y[t] - target[t]) * (y[t] - target[t]);
    r.teacher_nrmse = std::sqrt(se / double(held) / var);
  }
  std::vector<double> se(static_cast<size_t>(horizon), 0.0);
  const int64_t span = held - horizon - 1;
  for (int64_t s = 0; s < starts; ++s) {
    const int64_t start = train + (starts > 1 ? span * s / (starts - 1) : 0);  // the last true value
    const Tensor<double> xs({horizon, 1, 1}, 1.0), y0({1, 1}, series[size_t(start)]);
    const Tensor<double> y = jordan_generate(p, xs, &y0);
    for (int64_t h = 0; h < horizon; ++h) {
      const double e = y[h] - series[size_t(start + h + 1)];
      se[size_t(h)] += e * e;
    }
  }
  for (double v : se) r.free_nrmse.push_back(std::sqrt(v / double(starts) / var));
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace recur
