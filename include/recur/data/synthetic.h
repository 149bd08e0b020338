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
#pragma once

#include <cstdint>
#include <vector>

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

}  // namespace recur
