// Forecasting baselines: persistence, seasonal naive, and the ridge linear AR with its Cholesky
// solve. Equations in recur/models/forecast_baselines.h.
//
// Key: N = examples, P = features, Q = outputs, B = origins, H = horizon, K = targets.
#include "recur/models/forecast_baselines.h"

#include <cmath>

#include "recur/core/error.h"
#include "recur/core/layout.h"
#include "recur/core/linalg.h"

namespace recur {

Tensor<double> persistence_forecast(const std::vector<CsvSeries>& data,
                                    const std::vector<Origin>& origins, int64_t horizon,
                                    const std::vector<int64_t>& targets) {
  // v[t] of each target: (1,B,K)
  const Tensor<double> last = gather_steps<double>(data, origins, 0, 1, targets, nullptr);
  const int64_t B = int64_t(origins.size()), K = int64_t(targets.size());
  Tensor<double> out({B, horizon, K});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < horizon; ++h)
      for (int64_t k = 0; k < K; ++k) out[(b * horizon + h) * K + k] = last[b * K + k];
  return out;
}

bool has_seasonal_history(const std::vector<Origin>& origins, int64_t period) {
  for (const Origin& o : origins)
    if (o.t + 1 - period < 0) return false;
  return true;
}

Tensor<double> seasonal_forecast(const std::vector<CsvSeries>& data,
                                 const std::vector<Origin>& origins, int64_t horizon,
                                 const std::vector<int64_t>& targets, int64_t period) {
  RECUR_CHECK(period >= 1, "the seasonal period must be >= 1, got " << period);
  RECUR_CHECK(has_seasonal_history(origins, period),
              "a seasonal forecast with period " << period << " needs " << period
                                                 << " rows of history before every forecast");
  return swap_first_axes(gather_steps<double>(data, origins, 1 - period, horizon, targets, nullptr));
}

LinearAr fit_linear_ar(const Tensor<double>& X, const Tensor<double>& Y, double ridge) {
  RECUR_CHECK(X.rank() == 2 && Y.rank() == 2 && X.dim(0) == Y.dim(0) && X.dim(0) > 0,
              "fit_linear_ar: X " << X.shape_string() << " and Y " << Y.shape_string()
                                  << "; expected (N,P) and (N,Q) with N > 0");
  RECUR_CHECK(ridge >= 0 && std::isfinite(ridge),
              "the ridge must be finite and >= 0, got " << ridge);
  const int64_t N = X.dim(0), P = X.dim(1), Q = Y.dim(1);
  std::vector<double> xbar(size_t(P), 0.0), ybar(size_t(Q), 0.0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t p = 0; p < P; ++p) xbar[size_t(p)] += X[n * P + p] / double(N);
    for (int64_t q = 0; q < Q; ++q) ybar[size_t(q)] += Y[n * Q + q] / double(N);
  }
  // G = Xc^T Xc + lambda I (P,P); R = Xc^T Yc (P,Q).
  Tensor<double> G({P, P}), R({P, Q});
  std::vector<double> xc(static_cast<size_t>(P));
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t p = 0; p < P; ++p) xc[size_t(p)] = X[n * P + p] - xbar[size_t(p)];
    for (int64_t i = 0; i < P; ++i) {
      for (int64_t j = 0; j <= i; ++j) G[i * P + j] += xc[size_t(i)] * xc[size_t(j)];
      for (int64_t q = 0; q < Q; ++q)
        R[i * Q + q] += xc[size_t(i)] * (Y[n * Q + q] - ybar[size_t(q)]);
    }
  }
  double trace = 0;
  for (int64_t i = 0; i < P; ++i) trace += G[i * P + i];
  const double lambda = ridge * (trace > 0 ? trace / double(P) : 1.0);
  for (int64_t i = 0; i < P; ++i) {
    G[i * P + i] += lambda;
    for (int64_t j = 0; j < i; ++j) G[j * P + i] = G[i * P + j];
  }
  cholesky_solve(G, R);  // R is now A^T (P,Q)
  LinearAr ar{Tensor<double>({Q, P}), Tensor<double>({Q})};
  for (int64_t q = 0; q < Q; ++q) {
    double c = ybar[size_t(q)];
    for (int64_t p = 0; p < P; ++p) {
      ar.weight[q * P + p] = R[p * Q + q];
      c -= R[p * Q + q] * xbar[size_t(p)];
    }
    ar.bias[q] = c;
  }
  return ar;
}

Tensor<double> linear_ar_predict(const LinearAr& ar, const Tensor<double>& X) {
  const int64_t Q = ar.weight.dim(0), P = ar.weight.dim(1);
  RECUR_CHECK(X.rank() == 2 && X.dim(1) == P,
              "linear AR input has shape " << X.shape_string() << "; expected (N," << P << ")");
  const int64_t N = X.dim(0);
  Tensor<double> out({N, Q});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t q = 0; q < Q; ++q) {
      double s = ar.bias[q];
      for (int64_t p = 0; p < P; ++p) s += ar.weight[q * P + p] * X[n * P + p];
      out[n * Q + q] = s;
    }
  return out;
}

}  // namespace recur
