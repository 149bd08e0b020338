// The long-range memory suite: the adding problem and the copy task (recur/data/synthetic.h) at a
// given delay T, learned by one recurrent layer with a linear readout (tanh RNN, IRNN, LSTM, GRU,
// leaky RNN, clockwork RNN) trained with Adam on fresh random sequences, or by an Echo State Network
// whose ridge readout is fitted on a fixed set of sequences.
//
// Solved: adding test MSE < 0.01 (predicting the mean scores 1/6); copy: at least 90% of the
// recalled symbols right (chance 1/8). Training stops when solved (checked every eval_every
// updates on a fixed test set) or when the update or time budget runs out.
//
// The models, H = hidden:
//   tanh       rnn_tanh, PyTorch's uniform initialisation
//   irnn       rnn_relu, W_hh = I, biases 0 (Le et al. 2015)
//   lstm, gru  PyTorch's uniform initialisation
//   leaky      rnn_tanh with a learned leak per unit, starting at alpha = 0.1
//   clockwork  g modules of H/g units, periods 1, 2, 4, ..., 2^(g-1) (g = 8 where H allows)
//   skip       tanh RNN with skip connections through time, delay 10, length-1 connections kept
//   deep       deep transition RNN, two intermediate layers, shortcut h_{t-1} -> h_t
//   lnlstm     layer-normalised LSTM
//   esn        500-unit reservoir, 2% connectivity, spectral radius 0.99, ridge readout of [1; x]
//              fitted on esn_train_sequences sequences, the ridge picked on fresh validation ones
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "recur/layers/diagnostics.h"

namespace recur {

enum class LongRangeTask { adding, copy };
enum class LongRangeModel { tanh, irnn, lstm, gru, leaky, clockwork, esn, skip, deep, lnlstm };

const char* long_range_task_name(LongRangeTask t);
LongRangeTask parse_long_range_task(const std::string& name);
const char* long_range_model_name(LongRangeModel m);
LongRangeModel parse_long_range_model(const std::string& name);

struct LongRangeOptions {
  int64_t hidden = 64;
  int64_t batch = 32;
  int64_t max_steps = 3000;
  double budget_seconds = 60;
  int64_t eval_every = 100;
  int64_t test_sequences = 256;
  double lr = 1e-3;
  double clip = 1.0;
  uint64_t seed = 1;
  int64_t esn_units = 500;
  int64_t esn_train_sequences = 2000;
};

struct LongRangeResult {
  bool solved = false;
  int64_t steps = 0;   // updates made (ESN: 0)
  double seconds = 0;
  double metric = 0;   // adding: test MSE; copy: recall accuracy
  std::vector<std::pair<int64_t, double>> curve;  // (updates, metric) at every evaluation
};

bool long_range_solved(LongRangeTask task, double metric);

LongRangeResult run_long_range(LongRangeModel model, LongRangeTask task, int64_t T,
                               const LongRangeOptions& o);

// The gradient flow at initialisation (recur/layers/diagnostics.h) of a model built on the engine's
// layer (tanh, irnn, lstm, gru, leaky, lnlstm) over one test sequence of the task, with a unit-norm dL/dh at the last
// step: how much of a late error reaches the early steps before any training.
GradientFlow long_range_initial_flow(LongRangeModel model, LongRangeTask task, int64_t T,
                                     const LongRangeOptions& o);

}  // namespace recur
