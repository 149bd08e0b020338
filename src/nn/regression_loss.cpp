// MSE and MAE forward and backward; equations in recur/nn/regression_loss.h.
//
// Shapes key: N = values compared; p = predictions (N), y = targets (N).
// Gradient rule: no parameters; the activation gradient (dp) is assigned (=).
#include "recur/nn/regression_loss.h"

#include <cmath>

#include "recur/core/enum_names.h"
#include "recur/core/error.h"

namespace recur {

constexpr EnumNames<RegressionLoss, 2> kRegressionLossNames{
    {{RegressionLoss::mse, "mse"}, {RegressionLoss::mae, "mae"}}};

RegressionLoss parse_regression_loss(const std::string& name) {
  return parse_enum(kRegressionLossNames, name, "loss");
}
const char* regression_loss_name(RegressionLoss loss) {
  return enum_name(kRegressionLossNames, loss);
}

template <class T>
T regression_loss(T* dp, const T* p, const T* y, int64_t N, RegressionLoss loss) {
  RECUR_CHECK(N > 0, "regression_loss: " << N << " values; expected N > 0");
  const T inv = T(1) / T(N);
  double sum = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T e = p[n] - y[n];
    if (loss == RegressionLoss::mse) {
      sum += double(e) * double(e);
      if (dp) dp[n] = T(2) * e * inv;  // dp = 2 (p - y) / N
    } else {
      sum += std::abs(double(e));
      if (dp) dp[n] = (e > T(0) ? T(1) : e < T(0) ? T(-1) : T(0)) * inv;  // dp = sign(p - y) / N
    }
  }
  return T(sum / double(N));
}

template float regression_loss<float>(float*, const float*, const float*, int64_t, RegressionLoss);
template double regression_loss<double>(double*, const double*, const double*, int64_t,
                                        RegressionLoss);

}  // namespace recur
