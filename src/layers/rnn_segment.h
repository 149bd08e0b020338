// The engine's forward and BPTT over one uniform segment of a stack (src/layers/rnn.cpp):
// rnn_forward and rnn_backward without the chaining of a mixed stack's segments
// (src/layers/rnn_stack.cpp). They read params.config's own fields and ignore its `above`.
#pragma once

#include <vector>

#include "recur/layers/rnn.h"

namespace recur {

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
