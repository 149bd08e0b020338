// recur::RnnStream: streaming inference, one time step at a time with the state kept, for input
// that arrives step by step (speech frames, sensor readings, a user typing). Everything a step
// needs is prepared once: the input and recurrent weights of every layer packed for the step
// products (kernels/cpu/packed_gemm.h), the state and the workspaces. A step then allocates
// nothing: per layer, one product for x W_ih^T + b_ih, one for h W_hh^T + b_hh, and the cell's
// fused pointwise kernel. Equal to rnn_forward over the same sequence (tests/layers/rnn_stream_test).
// Unidirectional networks only: a reverse direction needs the whole sequence. Dropout is off.
#pragma once

#include <cstdint>
#include <memory>

#include "recur/layers/rnn.h"

namespace recur {

template <class T>
class RnnStream {
 public:
  // Copies what it needs from params (later changes to them are not seen); batch rows per step.
  // bf16 keeps the packed weights as bfloat16 (half the bytes streamed per step); float only.
  RnnStream(const RnnParams<T>& params, int64_t batch, Precision precision = Precision::fp32);
  RnnStream(RnnStream&&) noexcept;
  RnnStream& operator=(RnnStream&&) noexcept;
  ~RnnStream();

  // Starts a new sequence from init ((L,B,H) h and, for LSTM, c) or from zeros.
  void reset(const RnnState<T>* init = nullptr);
  // One step: x (B,I) in, the top layer's new h (B,H) out (y may be null); the state advances.
  void step(const T* x, T* y);
  // The state after the last step: (L,B,H) h and, for LSTM, c.
  const RnnState<T>& state() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recur
