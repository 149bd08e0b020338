// ConditionalLm: a byte-level language model conditioned on a class (the seeds' 1 -> N mode:
// vector -> sequence), e.g. "write a fortune in German". The condition k (one of K classes) enters
// in one of the three ways the seeds list:
//   init   as the initial state: h0 = tanh(W_init[k]) for every layer (c0 = 0 for an LSTM); W_init
//          (K, L*H) is the one-hot condition times a learned matrix, i.e. a learned state per class
//   input  as an extra input at every step: x_t = [embed(token_t); E_cond[k]]
//   both   both of the above
//
// Text: bytes 0..255 plus BOS (256, the first input) and EOS (257, the last target); input
// BOS b_1 .. b_n, target b_1 .. b_n EOS. Unidirectional stacked RNN, linear decoder, softmax.
// Key: T = time, B = batch, V = 258, E = byte embedding, Ec = condition embedding, H = hidden,
// L = layers, K = conditions.
// Parameters: embedding.weight (V,E); cond.weight (K,Ec) [input, both]; init.weight (K, L*H)
// [init, both]; rnn.* (input size E or E+Ec); decoder.weight (V,H), decoder.bias (V).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "recur/core/rng.h"
#include "recur/layers/rnn.h"
#include "recur/train/param.h"

namespace recur {

enum class ConditionMode { init, input, both };
ConditionMode parse_condition_mode(const std::string& name);  // "init", "input", "both"
const char* condition_mode_name(ConditionMode m);

struct ConditionalLmConfig {
  static constexpr int64_t kBos = 256, kEos = 257, kVocab = 258;
  int64_t conditions = 0;  // K
  ConditionMode mode = ConditionMode::both;
  int64_t embed = 32;       // E
  int64_t cond_embed = 16;  // Ec (input, both)
  RnnConfig rnn;            // unidirectional; input_size = E (+ Ec)

  bool uses_input() const { return mode != ConditionMode::init; }
  bool uses_init() const { return mode != ConditionMode::input; }
  void validate() const;
  std::map<std::string, std::string> to_metadata() const;
  static ConditionalLmConfig from_metadata(const std::map<std::string, std::string>& meta);
};

template <class T>
struct ConditionalLm {
  ConditionalLmConfig config;
  Tensor<T> embedding, cond_embedding, cond_init;
  RnnParams<T> rnn;
  Tensor<T> w_out, b_out;

  ConditionalLm() = default;
  explicit ConditionalLm(const ConditionalLmConfig& cfg);
  std::vector<std::pair<std::string, Tensor<T>*>> named();
  std::vector<std::pair<std::string, const Tensor<T>*>> named() const;
  std::map<std::string, Tensor<T>> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor<T>>& tensors, const std::string& source);
};

template <class T>
void init_conditional_lm(ConditionalLm<T>& m, Rng& rng);

// One padded, time-major batch of texts. inputs/targets (T*B): BOS b_1..b_n / b_1..b_n EOS, the
// padding targets -1; lengths (B) = n + 1; conditions (B) in [0, K).
struct ClmBatch {
  int64_t steps = 0, batch = 0;
  std::vector<int64_t> inputs, targets, lengths, conditions;
};
// Builds the batch for the given texts (bytes) and conditions.
ClmBatch make_clm_batch(const std::vector<const std::string*>& texts,
                        const std::vector<int64_t>& conditions);

// Mean cross-entropy (nats per target) of the batch; with `grads`, BPTT accumulating into grads.
// `count` receives the number of targets scored.
template <class T>
T conditional_lm_batch(const ConditionalLm<T>& model, ConditionalLm<T>* grads, const ClmBatch& b,
                       const RnnRunOptions& opt, int64_t* count = nullptr);

// `count` texts for `condition`, sampled byte by byte (temperature; top-k when > 0) until EOS or
// `max_len` bytes.
std::vector<std::string> sample_conditional_lm(const ConditionalLm<float>& model, int64_t condition,
                                               int64_t count, int64_t max_len, double temperature,
                                               int64_t top_k, Rng& rng);

}  // namespace recur
