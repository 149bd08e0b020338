// The baselines a forecasting network must beat, computed on the same origins and windows
// (data/time_series.h):
//
//   persistence     every future value is the last observed one:  yhat[t+h] = v[t]
//   seasonal naive  the value one period earlier:                 yhat[t+h] = v[t+h-P]
//                   (P = 365 on daily data: the same day last year)
//   linear AR       yhat = A x + c: x the flattened window (W*I values), yhat the H*K targets; one
//                   linear map for all horizons at once (direct), fitted by ridge least squares on
//                   the training windows through the normal equations:
//                     xbar, ybar = column means;  Xc = X - xbar,  Yc = Y - ybar
//                     (Xc^T Xc + lambda I) A^T = Xc^T Yc,   lambda = ridge * trace(Xc^T Xc) / P
//                     c = ybar - A xbar
//                   lambda is relative to the mean eigenvalue, so `ridge` does not depend on the
//                   data's scale; the intercept is not shrunk. The P x P system (P = W*I, a few
//                   hundred at most) is solved by Cholesky through LAPACK (recur/core/linalg.h).
//
// Key: N = examples, P = features (W*I), Q = outputs (H*K), B = origins, H = horizon, K = targets.
#pragma once

#include <cstdint>
#include <vector>

#include "recur/core/tensor.h"
#include "recur/data/time_series.h"

namespace recur {

// (B,H,K) raw values: v[t] of each target column, repeated over the horizon.
Tensor<double> persistence_forecast(const std::vector<CsvSeries>& data,
                                    const std::vector<Origin>& origins, int64_t horizon,
                                    const std::vector<int64_t>& targets);

// True when every origin has a full period of history (t + 1 - period >= 0).
bool has_seasonal_history(const std::vector<Origin>& origins, int64_t period);
// (B,H,K) raw values v[t+h-period]; throws unless has_seasonal_history.
Tensor<double> seasonal_forecast(const std::vector<CsvSeries>& data,
                                 const std::vector<Origin>& origins, int64_t horizon,
                                 const std::vector<int64_t>& targets, int64_t period);

struct LinearAr {
  Tensor<double> weight;  // A (Q,P)
  Tensor<double> bias;    // c (Q)
};

// X (N,P), Y (N,Q), ridge >= 0 (0: plain least squares; then Xc^T Xc must be positive definite).
LinearAr fit_linear_ar(const Tensor<double>& X, const Tensor<double>& Y, double ridge);
// (N,Q) = X A^T + c.
Tensor<double> linear_ar_predict(const LinearAr& ar, const Tensor<double>& X);


}  // namespace recur
