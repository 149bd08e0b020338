// Echo State Network (Jaeger 2001; Lukosevicius 2012, "A Practical Guide to Applying Echo State
// Networks"): a fixed random recurrent reservoir, and a linear readout fitted in closed form.
//
//   x_t = (1 - a) x_{t-1} + a tanh(W_in [1; u_t] + W x_{t-1} + W_back y_{t-1})
//   y_t = W_out z_t,   z_t = [1; u_t; x_t; y_{t-1}]   (u_t and y_{t-1} only where configured)
//
//   W      (N,N)    sparse: each entry nonzero with probability `connectivity`, uniform in [-1,1],
//                   then scaled so its spectral radius is `spectral_radius` (measured exactly by
//                   LAPACK's eigenvalues, or estimated by power iteration)
//   W_in   (N,1+K)  uniform: the bias column in [-bias_scaling, bias_scaling], the inputs in
//                   [-input_scaling, input_scaling]
//   W_back (N,L)    uniform in [-feedback_scaling, feedback_scaling]; absent when that is 0
//   W_out  (L,D)    the only trained weights: ridge regression on the states after a washout,
//                     W_out^T = (Z^T Z + ridge I)^-1 Z^T Y      (Cholesky through LAPACK)
//                   with the true y_{t-1} fed back while fitting (teacher forcing), optionally
//                   with uniform noise in [-teacher_noise, teacher_noise] added to it.
//
// After fitting, `esn_run` drives the reservoir with inputs; with a teacher the fed-back output is
// the true one (one-step-ahead prediction), without it the network's own (free running).
// Key: T = steps, K = inputs (0 for an autonomous generator), N = units, L = outputs,
//      D = 1 + K + N (+ L) readout features.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recur/core/tensor.h"

namespace recur {

struct EsnConfig {
  int64_t inputs = 1;   // K
  int64_t units = 500;  // N
  int64_t outputs = 1;  // L
  double connectivity = 0.02;
  double spectral_radius = 0.9;
  std::string radius_method = "exact";  // exact | power
  double input_scaling = 1.0;
  double bias_scaling = 0.0;
  double leak_rate = 1.0;         // a in (0, 1]
  double feedback_scaling = 0.0;  // 0: no output feedback
  bool readout_input = true;      // z_t holds u_t
  bool readout_output = false;    // z_t holds y_{t-1}
  uint64_t seed = 1;

  int64_t features() const;  // D
  void validate() const;     // throws recur::Error naming the bad field
};

// A sparse matrix in compressed rows.
struct SparseRows {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> row_start;  // rows + 1
  std::vector<int64_t> col;
  std::vector<double> value;

  void multiply_add(const double* x, double* y) const;  // y += A x
  Tensor<double> dense() const;
  static SparseRows from_dense(const Tensor<double>& A);
};

struct Esn {
  EsnConfig config;
  Tensor<double> w_in;    // (N, 1+K)
  SparseRows w;           // (N, N)
  Tensor<double> w_back;  // (N, L), empty without feedback
  Tensor<double> w_out;   // (L, D), empty until fitted
};

// A fresh reservoir from config.seed, W scaled to the configured spectral radius.
Esn make_esn(const EsnConfig& config);

// Spectral radius of the reservoir: exactly (dense eigenvalues) or by `iterations` steps of power
// iteration (the geometric mean growth of ||W^k v|| over the second half of the steps; it
// converges to max |lambda| even when the dominant eigenvalues are a complex pair).
double reservoir_radius_exact(const SparseRows& w);
double reservoir_radius_power(const SparseRows& w, int iterations = 2000, uint64_t seed = 7);

struct EsnState {
  std::vector<double> x;       // (N) reservoir
  std::vector<double> y_prev;  // (L) the output fed back at the next step
};
EsnState esn_zero_state(const Esn& m);

struct EsnFitOptions {
  double ridge = 1e-8;
  int64_t washout = 100;
  double teacher_noise = 0.0;
  uint64_t noise_seed = 3;
};

struct EsnFitResult {
  double train_nrmse = 0;  // of the one-step predictions on the fitted steps
  int64_t fitted_steps = 0;
  EsnState state;  // after the last training step, with y_prev = the last target
};

// Fits W_out on inputs U (T,K) and targets Y (T,L) from a zero state.
EsnFitResult esn_fit(Esn& m, const Tensor<double>& U, const Tensor<double>& Y,
                     const EsnFitOptions& o);

// Runs T = U.dim(0) steps from `state` (updated): outputs (T,L). With `teacher` (T,L), step t feeds
// back teacher[t] for step t+1; without it, the output it just produced.
Tensor<double> esn_run(const Esn& m, EsnState& state, const Tensor<double>& U,
                       const Tensor<double>* teacher = nullptr);

// The reservoir states x_t (T,N) over inputs U (T,K) from `state` (updated), with the fed-back
// output held at state.y_prev: for readouts fitted outside (e.g. one per sequence of a batch).
Tensor<double> esn_states(const Esn& m, EsnState& state, const Tensor<double>& U);

// sqrt(mean squared error / variance of the target), over all elements.
double nrmse(const Tensor<double>& prediction, const Tensor<double>& target);

void save_esn(const std::string& path, const Esn& m,
              const std::map<std::string, std::string>& extra = {});
Esn load_esn(const std::string& path);

}  // namespace recur
