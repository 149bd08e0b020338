// Point-forecast losses, mean squared error and mean absolute error, forward and backward.
//
// Shapes key: N = values compared; p = predictions (N), y = targets (N).
//
//   mse  = (1/N) sum_n (p_n - y_n)^2        dp_n = 2 (p_n - y_n) / N
//   mae  = (1/N) sum_n |p_n - y_n|          dp_n = sign(p_n - y_n) / N     (sign(0) = 0)
//
// Gradient rule (this file): there are no parameters; the activation gradient (dp) is assigned
// with =. The sum accumulates in double so a float loss does not drift with N.
#pragma once

#include <cstdint>
#include <string>

namespace recur {

enum class RegressionLoss { mse, mae };
RegressionLoss parse_regression_loss(const std::string& name);  // "mse", "mae"
const char* regression_loss_name(RegressionLoss loss);

// Returns the mean loss; writes d(loss)/dp into dp (N) unless it is nullptr. N must be > 0.
template <class T>
T regression_loss(T* dp, const T* p, const T* y, int64_t N, RegressionLoss loss);

}  // namespace recur
