// The engine's forward and BPTT over one uniform segment of a stack (src/layers/rnn.cpp):
// rnn_forward and rnn_backward without the chaining of a mixed stack's segments
// (src/layers/rnn_stack.cpp). They read params.config's own fields and ignore its `above`.
#pragma once

#include <vector>

#include "recur/core/error.h"
#include "recur/core/rng.h"
#include "recur/layers/rnn.h"
#include "recur/nn/dropout.h"  // inverted_dropout between layers and between segments

namespace recur {

// The checks every segment makes of its inputs: B lengths in [0, T] (or none), and a state's shape.
inline void check_lengths(const std::vector<int64_t>& lengths, int64_t T, int64_t B) {
  if (lengths.empty()) return;
  RECUR_CHECK(int64_t(lengths.size()) == B,
              "lengths has " << lengths.size() << " values, expected one per sequence (B = " << B << ")");
  for (size_t b = 0; b < lengths.size(); ++b)
    RECUR_CHECK(lengths[b] >= 0 && lengths[b] <= T,
                "lengths[" << b << "] = " << lengths[b] << " is outside [0, T = " << T << "]");
}

template <class T>
void check_state(const Tensor<T>& s, const char* what, int64_t LD, int64_t B, int64_t H) {
  RECUR_CHECK(s.shape == Shape({LD, B, H}), what << " has shape " << s.shape_string()
                                                 << ", expected " << shape_str({LD, B, H})
                                                 << " (layers*directions, batch, hidden)");
}

template <class T>
void rnn_segment_forward(Tensor<T>& y, RnnState<T>& final_state, RnnCache<T>& cache,
                         const RnnParams<T>& params, const Tensor<T>& x,
                         const std::vector<int64_t>& lengths, const RnnState<T>* init,
                         const RnnRunOptions& opt);

template <class T>
void rnn_segment_backward(Tensor<T>& dx, RnnState<T>& dinit, RnnParams<T>& grads,
                          const RnnCache<T>& cache, const RnnParams<T>& params, const Tensor<T>& dy,
                          const RnnState<T>* dfinal);

// A segment with its own time loop (RnnConfig::loop), under the same contract (rnn_loops.cpp).
template <class T>
void own_loop_forward(Tensor<T>& y, RnnState<T>& final_state, RnnCache<T>& cache,
                      const RnnParams<T>& params, const Tensor<T>& x,
                      const std::vector<int64_t>& lengths, const RnnState<T>* init,
                      const RnnRunOptions& opt);
template <class T>
void own_loop_backward(Tensor<T>& dx, RnnState<T>& dinit, RnnParams<T>& grads,
                       const RnnCache<T>& cache, const RnnParams<T>& params, const Tensor<T>& dy,
                       const RnnState<T>* dfinal);

}  // namespace recur
