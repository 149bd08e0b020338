// Synthetic sequence tasks with known generators, the standard benchmarks of reservoir computing
// and of long-range memory. Each is deterministic given its seed (or its parameters).
//
//   NARMA10      u(t) ~ U[0, 0.5] i.i.d.; the tenth-order nonlinear autoregressive moving average
//                  y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0}^{9} y(t-i) + 1.5 u(t-9) u(t) + 0.1
//                with y = 0 before the start. Step t reads u(t) and must output y(t+1), so both
//                the current input and ten steps of memory matter (Atiya & Parlos 2000).
//   Mackey-Glass the delay differential equation (Mackey & Glass 1977)
//                  dx/dt = 0.2 x(t-tau) / (1 + x(t-tau)^10) - 0.1 x(t),
//                chaotic for tau = 17; integrated by 4th-order Runge-Kutta with step 1/subdivisions
//                (the delayed values at half steps are the mean of their grid neighbours), from
//                x = 1.2 on [-tau, 0], sampled once per time unit after `discard` units.
//   adding       (Hochreiter & Schmidhuber 1997, in Le et al. 2015's form) T steps of two inputs:
//                a value U[0,1] and a marker, 1 at exactly two steps (one uniformly in the first
//                half, one in the second) and 0 elsewhere; the target, read after the last step,
//                is the sum of the two marked values. Predicting the mean (1) scores MSE 1/6.
//   copy         (Arjovsky et al. 2016) T+20 steps: 10 symbols from 1..8, T-1 blanks (0), a
//                delimiter (9), 10 blanks; the target is blank (0) for T+10 steps, then the 10
//                symbols. Inputs one-hot over 10 tokens, 9 output classes. A memoryless guess
//                scores a mean cross-entropy of 10 ln 8 / (T+20).
#pragma once

#include <cstdint>
#include <vector>

#include "recur/core/rng.h"
#include "recur/core/tensor.h"

namespace recur {

struct Narma10 {
  std::vector<double> u;  // inputs u(0..T-1)
  std::vector<double> y;  // targets: y[t] is y(t+1), the output due after reading u(t)
};

// T steps from `seed`. Throws recur::Error if the series diverges (it does for rare inputs).
Narma10 narma10(int64_t T, uint64_t seed);

struct MackeyGlassOptions {
  double tau = 17;
  int subdivisions = 10;  // integration steps per time unit
  int64_t discard = 1000; // time units dropped from the start (the transient)
};

// T samples, one per time unit.
std::vector<double> mackey_glass(int64_t T, const MackeyGlassOptions& o = {});

struct AddingBatch {
  Tensor<float> x;       // (T,N,2): value, marker
  std::vector<float> y;  // (N)
};
// N sequences of T >= 2 steps.
AddingBatch adding_problem(int64_t T, int64_t N, Rng& rng);

struct CopyBatch {
  static constexpr int64_t kSymbols = 8, kRecall = 10, kInputs = 10, kClasses = 9;
  Tensor<float> x;                // (T+20,N,10) one-hot
  std::vector<int64_t> target;    // (T+20)*N, time-major
  int64_t steps() const { return x.dim(0); }
};
// N sequences with a delay of T >= 1 steps.
CopyBatch copy_task(int64_t T, int64_t N, Rng& rng);

}  // namespace recur
