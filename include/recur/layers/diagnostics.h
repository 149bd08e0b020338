// Gradient-flow diagnostics: what the seeds derive about vanishing and exploding gradients, measured
// on a real layer and sequence.
//
// For one sequence (batch 1) through one layer (its forward direction) with a loss L_T at the last
// step, whose gradient with respect to the last state is given (dh_T, and dc_T for the LSTM):
//   grad_h[k] = ||dL_T/dh_k||  for k = 0..T (h_0 the initial state), computed backwards by the
//               cell's own backward step: dL/ds_{k-1} = J_k^T dL/ds_k, s = h (and c for the LSTM)
//   J_k       = ds_k/ds_{k-1}, the recurrent Jacobian of step k (S,S), S = H or 2H (LSTM: h and c);
//               for the simple RNN J_k = diag(f'(z_k)) U, the seeds' factor whose norm gamma makes
//               the gradient scale like gamma^{T-k}. Built column by column from S backward steps
//               with unit vectors; reported as its largest singular value (||J_k||_2, from the
//               eigenvalues of J_k^T J_k) and its spectral radius (LAPACK).
//   gates     per step, the mean over units of each gate (LSTM i, f, o; GRU r, z) and the fraction
//             saturated (below 0.05 or above 0.95).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recur/layers/rnn.h"

namespace recur {

struct GateTrace {
  std::string name;                // "input", "forget", "output", "reset", "update"
  std::vector<double> mean;        // T values
  std::vector<double> saturated;   // T values in [0, 1]
};

struct GradientFlow {
  int64_t steps = 0;                     // T
  std::vector<double> grad_h;            // T+1 values, k = 0..T
  std::vector<double> grad_c;            // T+1 values, LSTM only
  std::vector<double> jacobian_norm;     // T values, step k = 1..T (empty without jacobians)
  std::vector<double> jacobian_radius;   // T values
  std::vector<GateTrace> gates;
};

struct GradientFlowOptions {
  bool jacobians = true;
  int64_t jacobian_every = 1;  // analyse J_k for every this-many-th step (the others are NaN)
};

// `cache` from rnn_forward over a batch of one sequence of full length; `layer` picks the layer.
// dh_T (H) and dc_T (H, LSTM only; may be empty for zero).
GradientFlow gradient_flow(const RnnParams<double>& params, const RnnCache<double>& cache, int layer,
                           const Tensor<double>& dh_T, const Tensor<double>& dc_T,
                           const GradientFlowOptions& options = {});

// The flow as one JSON object (arrays per field; NaN written as null).
std::string gradient_flow_json(const GradientFlow& flow);

}  // namespace recur
