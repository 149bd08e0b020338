// The inside of Seq2Seq (recur/models/seq2seq.h), shared by training (seq2seq.cpp) and decoding
// (seq2seq_decode.cpp): the encoder, attention and decoder steps, forward and backward.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "recur/models/seq2seq.h"

namespace recur::seq2seq_net {

// The sources as one padded, time-major (S,B) block of ids (padding 0) with their lengths.
void pad_sources(const std::vector<const std::vector<int64_t>*>& sources, int64_t& steps,
                 std::vector<int64_t>& ids, std::vector<int64_t>& lengths);

// ---- The encoder (seq2seq_network.cpp) ----

template <class T>
struct Memory {
  int64_t S = 0, B = 0;
  std::vector<int64_t> lengths;
  std::vector<int64_t> source;  // (S,B) ids
  Tensor<T> enc;                // (S,B,De) encoder outputs, zero past each length
  Tensor<T> keys;               // (S,B,A) W_k h_i (bahdanau, general); empty: the keys are enc
  Tensor<T> summary;            // (B,De) h_N
  Tensor<T> embed_mask;         // (S,B,Es) dropout, or empty
  RnnCache<T> cache;
  const T* key_ptr() const { return keys.empty() ? enc.ptr() : keys.ptr(); }
};

template <class T>
Memory<T> encode(const Seq2Seq<T>& m, const std::vector<int64_t>& source,
                 const std::vector<int64_t>& lengths, int64_t S, int64_t B,
                 const RnnRunOptions& opt, const Seq2SeqTraining& tr = {});

// The encoder's backward, given the gradients of its outputs (denc) and of h_N (dsummary).
template <class T>
void encode_backward(const Seq2Seq<T>& m, Seq2Seq<T>& g, const Memory<T>& mem, Tensor<T>& denc,
                     const Tensor<T>& dkeys, const Tensor<T>& dsummary);

// ---- Attention (seq2seq_attention.cpp) ----

// For queries q (B,Hd): scores over each row's source positions, alpha (B,S) (zero past the
// length) and the context ctx (B,De). Bahdanau also keeps the projected query qp (B,A). Threads
// split the rows.
template <class T>
void attend(const Seq2Seq<T>& m, const Memory<T>& mem, const T* q, Tensor<T>& qp, Tensor<T>& alpha,
            Tensor<T>& ctx);

// Backward of attend: given dctx (B,De), dq (B,Hd) += the query's gradient, denc += through the
// weighted sum (and through the keys for dot), dkeys += through the scores (bahdanau, general).
template <class T>
void attend_backward(const Seq2Seq<T>& m, Seq2Seq<T>& g, const Memory<T>& mem, const T* q,
                     const Tensor<T>& qp, const Tensor<T>& alpha, const T* dctx, T* dq,
                     Tensor<T>& denc, Tensor<T>& dkeys);

// ---- The decoder (seq2seq_network.cpp) ----

// Where a decoder step starts: the RNN state and what it reads beside the token (feed: the fixed
// context, or the previous attentional output; empty for bahdanau, which attends inside the step,
// and for a context used only as the initial state).
template <class T>
struct DecoderState {
  RnnState<T> rnn;  // (Ld,B,Hd)
  Tensor<T> feed;   // (B,F)
};

// What the start keeps for backward.
template <class T>
struct DecoderStart {
  Tensor<T> bridge;  // (B,Hd) g(h_N)
  Tensor<T> fixed;   // (B,F) the fixed context (last, bridge)
};

template <class T>
DecoderState<T> decoder_start(const Seq2Seq<T>& m, const Memory<T>& mem, DecoderStart<T>& st);

// Backward of decoder_start: dstate is the gradient of the initial state, dfixed of the fixed
// context over all steps; adds into dsummary (B,De).
template <class T>
void decoder_start_backward(const Seq2Seq<T>& m, Seq2Seq<T>& g, const Memory<T>& mem,
                            const DecoderStart<T>& st, const RnnState<T>& dstate,
                            const Tensor<T>& dfixed, Tensor<T>& dsummary);

// One decoder step's values, kept for backward.
template <class T>
struct StepCache {
  std::vector<int64_t> tokens;  // (B) inputs
  Tensor<T> query;              // (B,Hd) the attention's query: bahdanau s_{t-1}, dot/general s_t
  Tensor<T> qp, alpha, ctx;     // attention
  Tensor<T> feed;               // (B,F) what the step read beside the token
  RnnCache<T> rnn;
  Tensor<T> cat;                // (B,Hd+De) [s_t; c_t] (attention)
  Tensor<T> out;                // (B,Hd) o_t
  Tensor<T> out_dropped;        // (B,Hd) o_t after dropout, the output layer's input (or empty)
  Tensor<T> embed_mask, out_mask;  // dropout masks (B,Et), (B,Hd), or empty
};

// One step for tokens (B): logits (B,Vt) and the next state.
template <class T>
void decoder_step(const Seq2Seq<T>& m, const Memory<T>& mem, const std::vector<int64_t>& tokens,
                  const DecoderState<T>& in, DecoderState<T>& next, StepCache<T>& sc, T* logits,
                  const RnnRunOptions& opt, const Seq2SeqTraining& tr = {});

// Backward of one step. dstate: in, the gradient of the step's new state; out, of its start state.
// dfeed (input feeding): in, the gradient of this step's output as the next step's feed; out, of
// the previous one. dfixed += the gradient of the fixed context fed at this step.
template <class T>
void decoder_step_backward(const Seq2Seq<T>& m, Seq2Seq<T>& g, const Memory<T>& mem,
                           const StepCache<T>& sc, const T* dlogits, RnnState<T>& dstate,
                           Tensor<T>& dfeed, Tensor<T>& dfixed, Tensor<T>& denc, Tensor<T>& dkeys);

template <class T>
int64_t argmax_row(const T* z, int64_t n) {
  return int64_t(std::max_element(z, z + n) - z);
}

}  // namespace recur::seq2seq_net
