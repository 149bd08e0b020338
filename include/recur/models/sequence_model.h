// SequenceModel: tokens -> embedding -> stacked (bi)RNN -> linear -> softmax over a vocabulary, one
// prediction per step. The char/word language model and any N->N token task are built on it.
//
// Key: T = time, B = batch, V = vocabulary, E = embedding size, H = hidden, D = directions.
//   tokens, targets: (T,B) int64, time-major   embedding.weight: (V,E)
//   rnn.*: PyTorch RNN names (rnn.weight_ih_l0, ...)   decoder.weight: (V_out, D*H)  decoder.bias: (V_out)
#pragma once

#include <map>
#include <string>
#include <vector>

#include "recur/layers/rnn.h"
#include "recur/nn/param_visitor.h"
#include "recur/train/param.h"

namespace recur {

struct SequenceModelConfig {
  int64_t vocab = 0;      // input tokens
  int64_t outputs = 0;    // output classes (the vocabulary again for a language model)
  int64_t embed = 0;      // embedding size = rnn.input_size
  RnnConfig rnn;
  void validate() const;
  std::map<std::string, std::string> to_metadata() const;
  static SequenceModelConfig from_metadata(const std::map<std::string, std::string>& meta);
};

template <class T>
struct SequenceModel : NamedParams<SequenceModel<T>, T> {
  SequenceModelConfig config;
  Tensor<T> embedding;  // (V,E)
  RnnParams<T> rnn;
  Tensor<T> w_out;      // (V_out, D*H)
  Tensor<T> b_out;      // (V_out)

  SequenceModel() = default;
  explicit SequenceModel(const SequenceModelConfig& cfg);  // zeros of the right shapes

  // Names as in a PyTorch module with submodules embedding, rnn and decoder.
  static void visit_params(auto& self, auto&& f) {
    f("embedding.weight", self.embedding);
    visit_submodule("rnn.", self.rnn, f);
    f("decoder.weight", self.w_out);
    f("decoder.bias", self.b_out);
  }
};

// PyTorch's defaults: embedding N(0,1); RNN U(-1/sqrt(H), 1/sqrt(H)); decoder U(-1/sqrt(in), ..).
// `scheme` picks the recurrent initialisation (see init_rnn).
template <class T>
void init_sequence_model(SequenceModel<T>& m, Rng& rng,
                         RecurrentInit scheme = RecurrentInit::uniform);

// One window: forward over tokens (T,B) from `state` (carried in and out, LSTM c included), mean
// cross-entropy against targets (entries equal to -1 are ignored). With `grads`, also BPTT through the
// window (truncated: nothing flows into the previous window) accumulating into grads.
// Returns the mean loss in nats; `count` receives the number of scored targets.
//
// Padded batches (tagging): with `lengths` (B values in [0, T]), sequence b has lengths[b] steps;
// the steps past it are padding (their tokens may be any valid id, their targets must be -1), the
// final states are taken at each sequence's own length and the reverse direction starts at its own
// last step (see rnn_forward). Null: every sequence has T steps (language models).
// `logits`, when not null, receives the decoder's output (T*B, V_out) (padding rows included).
template <class T>
T sequence_model_window(const SequenceModel<T>& model, SequenceModel<T>* grads,
                        const std::vector<int64_t>& tokens, const std::vector<int64_t>& targets,
                        int64_t steps, int64_t batch, RnnState<T>& state, const RnnRunOptions& opt,
                        int64_t* count = nullptr, const std::vector<int64_t>* lengths = nullptr,
                        Tensor<T>* logits = nullptr);

// Logits for one step of B tokens from `state` (updated): for sampling. logits: (B, V_out).
template <class T>
void sequence_model_step(Tensor<T>& logits, const SequenceModel<T>& model,
                         const std::vector<int64_t>& tokens, RnnState<T>& state);

}  // namespace recur
