// Deep transition RNN (Pascanu et al. 2014, DT(S)-RNN; the seeds' MLP inside the hidden-to-hidden
// transition): between h_{t-1} and h_t sit `depth` intermediate tanh layers, and optionally a
// shortcut from h_{t-1} straight to h_t that keeps a short path for the gradient.
//
//   u_1 = tanh(W x_t + U h_{t-1} + b_1)
//   u_k = tanh(M_k u_{k-1} + b_k)                  k = 2..depth
//   h_t = tanh(M_out u_depth + b_out + S h_{t-1})  (S only with shortcut)
//
// Key: T = steps, B = batch, I = input, H = hidden (every intermediate layer has H units), L = depth.
//   x: (T,B,I)  y: (T,B,H)
//   weight_ih W (H,I), weight_hh U (H,H), bias_1 (H), weight_k M_k (H,H) and bias_k (H) for
//   k = 2..L, weight_out M_out (H,H), bias_out (H), weight_short S (H,H)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "recur/core/rng.h"
#include "recur/core/tensor.h"
#include "recur/nn/param_visitor.h"

namespace recur {

struct DeepTransitionConfig {
  int64_t input_size = 0, hidden_size = 0;
  int depth = 1;          // intermediate layers, >= 1
  bool shortcut = true;
  void validate() const;
};

template <class T>
struct DeepTransitionParams : NamedParams<DeepTransitionParams<T>, T> {
  DeepTransitionConfig config;
  Tensor<T> w_ih, w_hh, w_short, w_out, b_out;
  std::vector<Tensor<T>> w_mid, b_mid;  // b_mid[0] is b_1; w_mid[k-1] is M_k for k >= 2 (w_mid[0] unused, empty)

  DeepTransitionParams() = default;
  explicit DeepTransitionParams(const DeepTransitionConfig& cfg);  // zeros
  // weight_ih, weight_hh, bias_1, then weight_k, bias_k for k = 2..L, weight_out, bias_out and
  // weight_short (shortcut only).
  static void visit_params(auto& self, auto&& f) {
    f("weight_ih", self.w_ih);
    f("weight_hh", self.w_hh);
    f("bias_1", self.b_mid[0]);
    for (int k = 1; k < self.config.depth; ++k) {
      f("weight_" + std::to_string(k + 1), self.w_mid[size_t(k)]);
      f("bias_" + std::to_string(k + 1), self.b_mid[size_t(k)]);
    }
    f("weight_out", self.w_out);
    f("bias_out", self.b_out);
    if (self.config.shortcut) f("weight_short", self.w_short);
  }
};

template <class T>
void init_deep_transition(DeepTransitionParams<T>& p, Rng& rng);  // U(-1/sqrt(H), 1/sqrt(H))

template <class T>
struct DeepTransitionCache {
  Tensor<T> x;                 // (T,B,I)
  Tensor<T> h;                 // (T+1,B,H): slot t is the state before step t
  std::vector<Tensor<T>> u;    // L tensors (T,B,H)
};

// h0 (B,H) may be null (zeros).
template <class T>
void deep_transition_forward(Tensor<T>& y, DeepTransitionCache<T>& cache, const DeepTransitionParams<T>& p,
                             const Tensor<T>& x, const Tensor<T>* h0 = nullptr);

// BPTT. dy (T,B,H); parameter gradients +=, dx =, and dh0 (B,H) = when given.
template <class T>
void deep_transition_backward(Tensor<T>& dx, DeepTransitionParams<T>& grads, const DeepTransitionCache<T>& cache,
                              const DeepTransitionParams<T>& p, const Tensor<T>& dy, Tensor<T>* dh0 = nullptr);

}  // namespace recur
