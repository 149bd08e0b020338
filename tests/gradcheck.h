// Finite-difference gradient checking in double precision, shared by every gradient test.
//
// Central differences: g_fd = (L(w + eps) - L(w - eps)) / (2 eps), truncation error O(eps^2 L''')
// and rounding error O(u L / eps) with u = 2^-53; eps = 1e-6 balances them near 1e-10 absolute for
// losses of order 1. We compare with |g_fd - g| <= atol + rtol * max(|g_fd|, |g|), atol = 1e-7 and
// rtol = 1e-5 by default: about 100x above the expected error, 1000x below any real mistake (a wrong
// term is typically off by 1e-2 relative or more).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "recur/core/tensor.h"

namespace recur::testing {

struct GradTolerance {
  double eps = 1e-6;
  double atol = 1e-7;
  double rtol = 1e-5;
};

// Checks analytic gradient `grad` of `loss()` with respect to every element of `param`.
// `loss` must recompute the loss from scratch from the current value of `param`.
inline void expect_grad_matches(const std::string& name, Tensor<double>& param,
                                const Tensor<double>& grad, const std::function<double()>& loss,
                                GradTolerance tol = {}) {
  ASSERT_EQ(param.shape, grad.shape) << name << ": gradient shape differs from parameter shape";
  int failures = 0;
  for (int64_t i = 0; i < param.numel(); ++i) {
    const double saved = param[i];
    param[i] = saved + tol.eps;
    const double lp = loss();
    param[i] = saved - tol.eps;
    const double lm = loss();
    param[i] = saved;
    const double fd = (lp - lm) / (2 * tol.eps);
    const double an = grad[i];
    const double bound = tol.atol + tol.rtol * std::max(std::abs(fd), std::abs(an));
    if (!(std::abs(fd - an) <= bound) && failures++ < 5) {
      ADD_FAILURE() << name << "[" << i << "]: analytic " << an << " vs finite difference " << fd
                    << " (|diff| " << std::abs(fd - an) << " > " << bound << ")";
    }
  }
  EXPECT_EQ(failures, 0) << name << ": " << failures << " of " << param.numel()
                         << " elements disagree";
}

// Fills a tensor with uniform values in [lo, hi) from a fixed-seed generator.
template <class Rng>
void fill_uniform(Tensor<double>& t, Rng& rng, double lo = -1, double hi = 1) {
  for (auto& v : t.data) v = rng.uniform(lo, hi);
}

}  // namespace recur::testing
