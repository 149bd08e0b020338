// RNN with skip connections through time (the seeds' delay-d connections): the state also reads
// the state d steps back, which shortens the gradient's path from T steps to about T/d.
//
//   h_t = tanh(W x_t + U_1 h_{t-1} + U_d h_{t-d} + b)       (short = true)
//   h_t = tanh(W x_t + U_d h_{t-d} + b)                     (short = false: the length-1
//                                                             connections removed; the sequence
//                                                             splits into d interleaved chains)
// States before the first step are zero, except h_{-1} = h0 when one is given (a state carried
// over from an earlier window: both links read it where they reach one step before the start).
//
// Key: T = steps, B = batch, I = input, H = hidden, d = delay.
//   x: (T,B,I)  y: (T,B,H)
//   weight_ih (H,I), weight_hh (H,H) = U_1 (absent without short), weight_skip (H,H) = U_d, bias (H)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "recur/core/rng.h"
#include "recur/core/tensor.h"
#include "recur/nn/param_visitor.h"

namespace recur {

struct SkipRnnConfig {
  int64_t input_size = 0, hidden_size = 0;
  int64_t delay = 2;   // d >= 1
  bool short_connections = true;
  void validate() const;
};

template <class T>
struct SkipRnnParams : NamedParams<SkipRnnParams<T>, T> {
  SkipRnnConfig config;
  Tensor<T> w_ih, w_hh, w_skip, bias;

  SkipRnnParams() = default;
  explicit SkipRnnParams(const SkipRnnConfig& cfg);  // zeros
  static void visit_params(auto& self, auto&& f) {
    f("weight_ih", self.w_ih);
    if (self.config.short_connections) f("weight_hh", self.w_hh);
    f("weight_skip", self.w_skip);
    f("bias", self.bias);
  }
};

// U(-1/sqrt(H), 1/sqrt(H)).
template <class T>
void init_skip_rnn(SkipRnnParams<T>& p, Rng& rng);

template <class T>
struct SkipRnnCache {
  Tensor<T> x;  // (T,B,I)
  Tensor<T> h;  // (T,B,H)
  Tensor<T> h0;  // (B,H) h_{-1}, or empty (zeros)
};

template <class T>
void skip_rnn_forward(Tensor<T>& y, SkipRnnCache<T>& cache, const SkipRnnParams<T>& p, const Tensor<T>& x,
                      const Tensor<T>* h0 = nullptr);

// BPTT along both the length-1 and the length-d paths. dy (T,B,H); parameter gradients +=, dx =;
// dh0 (B,H) =, when given and the forward had an h0.
template <class T>
void skip_rnn_backward(Tensor<T>& dx, SkipRnnParams<T>& grads, const SkipRnnCache<T>& cache,
                       const SkipRnnParams<T>& p, const Tensor<T>& dy, Tensor<T>* dh0 = nullptr);

}  // namespace recur
