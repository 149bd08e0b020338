// Forecaster: a recurrent encoder over a window of past values and a linear head (the seeds' N -> 1
// and N -> M modes, on time series). Everything here is in normalised units (data/time_series.h).
//
// Key: W = window, S = steps read, B = batch, I = input columns, Hd = hidden size, L = layers,
//      H = horizon, K = target columns, O = head outputs.
//   x: (S,B,I)  rnn outputs o: (S,B,Hd)  head.weight: (O,Hd)  head.bias: (O)
//
// Two multi-step strategies:
//   direct     the top layer's output at the last step of the window -> linear -> all H future
//              values of the K targets at once. O = H*K; pred (B,H,K): pred[b,h,k] = target k at
//              row t+1+h. Training and forecasting are the same graph (S = W).
//   recursive  a one-step model: at every step the top layer's output -> linear -> the next value
//              of every input column (O = I; the targets are some of those columns, and all of
//              them are needed to feed the model its own output).
//              Training (teacher forcing): the RNN reads the window and the first H-1 true future
//              rows (S = W+H-1), and the prediction at every step is scored against the true row
//              after it.
//              Forecasting: read the window, predict row t+1, feed that prediction back as the next
//              input (the state carries on), H times.
//
// Residual (optional): the head forecasts the change from the last observed value, which is added
// back: direct: pred[b,h,k] += x[W-1, b, target_inputs[k]]; recursive: pred_s += x_s. The network
// then starts as persistence and learns corrections to it (useful where the level drifts beyond
// the training range, as prices do). The skip carries no parameters, so backward is unchanged.
//
// Forward:   o = rnn(x)
//            direct:    pred = W_out o_{W-1} + b_out      recursive: pred_s = W_out o_s + b_out
//            (+ the residual skip); loss = mse or mae (nn/regression_loss.h) over every value
// Backward:  dpred from the loss; dW_out += dpred^T o, db_out += sum dpred, do = dpred W_out
//            (direct: at the last step only, zero elsewhere); then BPTT through the RNN.
// Gradient rule: parameter gradients accumulate (+=), activation gradients are assigned (=).
//
// Parameters (PyTorch names): rnn.* (a unidirectional, possibly stacked RNN/LSTM/GRU),
//   head.weight (O,Hd), head.bias (O).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "recur/layers/rnn.h"
#include "recur/nn/param_visitor.h"
#include "recur/nn/regression_loss.h"
#include "recur/train/param.h"

namespace recur {

enum class ForecastStrategy { direct, recursive };
ForecastStrategy parse_forecast_strategy(const std::string& name);  // "direct", "recursive"
const char* forecast_strategy_name(ForecastStrategy s);

struct ForecasterConfig {
  RnnConfig rnn;  // input_size = I; unidirectional
  ForecastStrategy strategy = ForecastStrategy::direct;
  int64_t horizon = 1;    // H
  int64_t targets = 1;    // K (direct: the head predicts H*K values; recursive: unused, the head
                          // predicts the I input columns)
  bool residual = false;  // forecast the change from the last observed value
  std::vector<int64_t> target_inputs;  // direct + residual: each target's input column (K)

  int64_t inputs() const { return rnn.input_size; }
  int64_t outputs() const;       // O
  int64_t step_outputs() const;  // values per forecast step: K (direct) or I (recursive)
  void validate() const;
  std::map<std::string, std::string> to_metadata() const;
  static ForecasterConfig from_metadata(const std::map<std::string, std::string>& meta);
};

template <class T>
struct Forecaster : NamedParams<Forecaster<T>, T> {
  ForecasterConfig config;
  RnnParams<T> rnn;
  Tensor<T> w_out;  // (O,Hd)
  Tensor<T> b_out;  // (O)

  Forecaster() = default;
  explicit Forecaster(const ForecasterConfig& cfg);  // zeros of the right shapes

  static void visit_params(auto& self, auto&& f) {
    visit_submodule("rnn.", self.rnn, f);
    f("head.weight", self.w_out);
    f("head.bias", self.b_out);
  }
};

// The RNN by `scheme`; the head U(-1/sqrt(Hd), 1/sqrt(Hd)) as PyTorch's nn.Linear.
template <class T>
void init_forecaster(Forecaster<T>& m, Rng& rng, RecurrentInit scheme = RecurrentInit::uniform);

// Steps the training graph reads: W (direct) or W+H-1 (recursive, teacher forcing).
int64_t forecaster_training_steps(const ForecasterConfig& c, int64_t window);

// The training graph of one batch: forward, and with `grads` backward accumulating into grads.
//   direct:    x (W,B,I), y (B,H,K)
//   recursive: x (W+H-1,B,I), y (W+H-1,B,I) with y[s] = the row after x[s]
// Returns the mean loss over every predicted value.
template <class T>
T forecaster_batch(const Forecaster<T>& model, Forecaster<T>* grads, const Tensor<T>& x,
                   const Tensor<T>& y, RegressionLoss loss, const RnnRunOptions& opt);

// Forecasts from windows x (W,B,I): (B,H,step_outputs()). Direct: the head's outputs; recursive:
// rolled forward, each step's prediction of every input column fed back as the next input.
template <class T>
Tensor<T> forecaster_predict(const Forecaster<T>& model, const Tensor<T>& x);

}  // namespace recur
