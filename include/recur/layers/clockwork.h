// Clockwork RNN (Koutnik et al. 2014; the seeds' example: 256 units in 4 modules of 64).
//
// The H hidden units are split into g modules of k = H/g units, module i with period P_i
// (P_0 < P_1 < ... , fastest first, e.g. 1, 2, 4, 8). At step t (counted from 0) module i is active
// when t mod P_i == 0:
//   active    h_t[i] = tanh(W_ih[i] x_t + W_hh[i, i:] h_{t-1}[i:] + b[i])
//   inactive  h_t[i] = h_{t-1}[i]
// where [i] are module i's k units and [i:] the units of module i and every slower one: the
// recurrent matrix is block upper triangular, connections run from slower to faster modules only
// (module 0 reads all H units, the slowest only itself: blocks k x H, k x (H-k), ..., k x k).
// Forward and backward touch only the active modules, so a step costs sum over active i of
// k (I + H - i k) multiply-adds instead of a full RNN's H (I + H): with periods 1, 2, 4, 8 about
// 2.6 times fewer on average.
//
// Key: T = steps, B = batch, I = input, H = hidden, g = modules, k = H/g.
//   x: (T,B,I)  y: (T,B,H)  h0, hT: (B,H)
//   weight_ih: (H,I)  weight_hh: (H,H) (entries below the block diagonal are unused and stay 0)
//   bias: (H)
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

struct ClockworkConfig {
  int64_t input_size = 0;
  int64_t hidden_size = 0;           // H, a multiple of the number of periods
  std::vector<int64_t> periods;      // one per module, strictly increasing, >= 1
  int64_t modules() const { return int64_t(periods.size()); }
  int64_t module_size() const { return hidden_size / modules(); }
  void validate() const;
};

template <class T>
struct ClockworkParams : NamedParams<ClockworkParams<T>, T> {
  ClockworkConfig config;
  Tensor<T> w_ih, w_hh, bias;

  ClockworkParams() = default;
  explicit ClockworkParams(const ClockworkConfig& cfg);  // zeros of the right shapes
  static void visit_params(auto& self, auto&& f) {
    f("weight_ih", self.w_ih);
    f("weight_hh", self.w_hh);
    f("bias", self.bias);
  }
};

// U(-1/sqrt(H), 1/sqrt(H)) on the used entries; the unused block-lower part stays 0.
template <class T>
void init_clockwork(ClockworkParams<T>& p, Rng& rng);

template <class T>
struct ClockworkCache {
  Tensor<T> x;       // (T,B,I)
  Tensor<T> states;  // (T+1,B,H): slot t is the state before step t
};

// y (T,B,H); h0 may be null (zeros); final state hT (B,H).
template <class T>
void clockwork_forward(Tensor<T>& y, Tensor<T>& hT, ClockworkCache<T>& cache,
                       const ClockworkParams<T>& p, const Tensor<T>& x,
                       std::type_identity_t<const Tensor<T>*> h0);

// BPTT. dy (T,B,H); dhT (B,H) or null. Parameter gradients accumulate (+=) into `grads`;
// dx (T,B,I) and dh0 (B,H) are assigned.
template <class T>
void clockwork_backward(Tensor<T>& dx, Tensor<T>& dh0, ClockworkParams<T>& grads,
                        const ClockworkCache<T>& cache, const ClockworkParams<T>& p,
                        const Tensor<T>& dy, std::type_identity_t<const Tensor<T>*> dhT);

// Multiply-adds of one forward pass over T steps (the active modules only), for the benchmark.
double clockwork_forward_macs(const ClockworkConfig& c, int64_t T, int64_t B);

}  // namespace recur
