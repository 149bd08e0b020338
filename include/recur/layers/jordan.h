// Jordan network (the seeds' output-to-hidden recurrence): the hidden state reads the previous
// output instead of the previous hidden state.
//
//   h_t = tanh(W x_t + R y_{t-1} + b),   y_t = V h_t + c      (y_0's predecessor is y_init, zero)
//
// With teacher forcing the previous output is the true one, so no step waits for another: training
// runs over all T*B rows at once, two GEMMs each way (jordan_forward / jordan_backward). Free
// running feeds the network's own outputs back, one step at a time (jordan_generate); that is the
// open-loop mode whose mismatch with training the seeds point out.
//
// Key: T = steps, B = batch, I = input, H = hidden, O = outputs.
//   x: (T,B,I)  y_prev: (T,B,O) the outputs fed at each step  y: (T,B,O)
//   weight_ih W (H,I), weight_oh R (H,O), bias b (H), weight_out V (O,H), bias_out c (O)
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "recur/core/rng.h"
#include "recur/core/tensor.h"
#include "recur/nn/param_visitor.h"

namespace recur {

struct JordanConfig {
  int64_t input_size = 0, hidden_size = 0, output_size = 0;
  void validate() const;
};

template <class T>
struct JordanParams : NamedParams<JordanParams<T>, T> {
  JordanConfig config;
  Tensor<T> w_ih, w_oh, bias, w_out, b_out;

  JordanParams() = default;
  explicit JordanParams(const JordanConfig& cfg);  // zeros
  static void visit_params(auto& self, auto&& f) {
    f("weight_ih", self.w_ih);
    f("weight_oh", self.w_oh);
    f("bias", self.bias);
    f("weight_out", self.w_out);
    f("bias_out", self.b_out);
  }
};

template <class T>
void init_jordan(JordanParams<T>& p, Rng& rng);  // U(-1/sqrt(fan_in), 1/sqrt(fan_in))

template <class T>
struct JordanCache {
  Tensor<T> x, y_prev, h;  // (T*B rows)
};

// Teacher forcing: y_prev[t] is the output fed at step t (the true y_{t-1}; zero at t = 0).
template <class T>
void jordan_forward(Tensor<T>& y, JordanCache<T>& cache, const JordanParams<T>& p, const Tensor<T>& x,
                    const Tensor<T>& y_prev);

// dy (T,B,O). Parameter gradients +=; dx and dy_prev (the gradient into the fed outputs) =.
template <class T>
void jordan_backward(Tensor<T>& dx, Tensor<T>& dy_prev, JordanParams<T>& grads, const JordanCache<T>& cache,
                     const JordanParams<T>& p, const Tensor<T>& dy);

// Free running from y_init (B,O) (null: zero): each step feeds back the output it produced.
template <class T>
Tensor<T> jordan_generate(const JordanParams<T>& p, const Tensor<T>& x,
                          std::type_identity_t<const Tensor<T>*> y_init);

}  // namespace recur
