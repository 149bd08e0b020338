// ConditionalLm: a byte-level language model conditioned on a class or on a real vector (the
// seeds' 1 -> N mode: vector -> sequence), e.g. "write a fortune in German" or "describe this
// image". The condition is a vector v of K values: the one-hot vector of one of K classes, or the
// user's own features (`vectors`, e.g. an image's pixels). It enters in the ways the seeds list:
//   init   as the initial state: h0 = tanh(v^T W_init) for every layer (c0 = 0 for an LSTM);
//          W_init (K, L*H): for a class, a learned state per class
//   input  as an extra input at every step: x_t = [embed(token_t); v^T E_cond], which adds v^T R
//          (R = E_cond times the condition's columns of W_ih) to every step's pre-activation
//   both   both of the above
//   first  as an extra input at the first step only: x_1 = [embed(BOS); v^T E_cond], zeros after
//
// Text: bytes 0..255 plus BOS (256, the first input) and EOS (257, the last target); input
// BOS b_1 .. b_n, target b_1 .. b_n EOS. Unidirectional stacked RNN, linear decoder, softmax.
//
// How a generated sequence ends (the seeds' three ways; `ending`):
//   eos     the end symbol: sampling stops when EOS is drawn
//   stop    a learned stop probability: p_t = sigmoid(w_stop . h_t + b_stop) after reading token t,
//           trained with binary cross-entropy (1 at the step whose target is EOS, 0 before);
//           sampling draws EOS never and stops when a Bernoulli(p_t) fires
//   length  a predicted length: l = w_len . h_0 + b_len from the state after reading BOS,
//           trained with squared error against ln(1 + n); sampling draws exactly
//           round(exp(l) - 1) bytes (EOS never drawn)
// The byte softmax is trained the same way in all three (EOS included), so the modes differ only
// in what decides the end; the auxiliary losses are added to the gradient with weight 1.
//
// Time as an input (seed 004; `time_input`): one more input value at every step t (t = 0 at BOS),
//   index      ln(1 + t)
//   remaining  ln(1 + n - t), the bytes still to write (n the text's length): sampling is given
//              the length to write and the model learns to end there. Not with the length head,
//              which predicts n from the first step's state, whose input would need n.
// Key: T = time, B = batch, V = 258, E = byte embedding, Ec = condition embedding, Et = time
// input (0 or 1), H = hidden,
// L = layers, K = conditions.
// Parameters: embedding.weight (V,E); cond.weight (K,Ec) [input, both, first]; init.weight (K, L*H)
// [init, both]; rnn.* (input size E [+ Ec] [+ Et]); decoder.weight (V,H), decoder.bias (V);
// stop.weight (H), stop.bias (1) [stop]; length.weight (H), length.bias (1) [length].
#pragma once

#include <map>
#include <string>
#include <vector>

#include "recur/core/rng.h"
#include "recur/layers/rnn.h"
#include "recur/nn/param_visitor.h"
#include "recur/train/param.h"

namespace recur {

enum class ConditionMode { init, input, both, first };
enum class SequenceEnding { eos, stop, length };
enum class TimeInput { none, index, remaining };
TimeInput parse_time_input(const std::string& name);  // "none", "index", "remaining"
const char* time_input_name(TimeInput t);
SequenceEnding parse_sequence_ending(const std::string& name);  // "eos", "stop", "length"
const char* sequence_ending_name(SequenceEnding e);
ConditionMode parse_condition_mode(const std::string& name);  // "init", "input", "both", "first"
const char* condition_mode_name(ConditionMode m);

struct ConditionalLmConfig {
  static constexpr int64_t kBos = 256, kEos = 257, kVocab = 258;
  int64_t conditions = 0;  // K: classes, or the values of a condition vector
  bool vectors = false;    // conditions are real vectors (else class ids)
  ConditionMode mode = ConditionMode::both;
  SequenceEnding ending = SequenceEnding::eos;
  TimeInput time_input = TimeInput::none;
  int64_t embed = 32;       // E
  int64_t cond_embed = 16;  // Ec (input, both)
  RnnConfig rnn;            // unidirectional; input_size = E (+ Ec)

  bool uses_input() const { return mode != ConditionMode::init; }
  bool uses_init() const { return mode == ConditionMode::init || mode == ConditionMode::both; }
  int64_t time_width() const { return time_input == TimeInput::none ? 0 : 1; }  // Et
  // The RNN's input: E + Ec (input modes) + Et.
  int64_t input_width() const { return embed + (uses_input() ? cond_embed : 0) + time_width(); }
  void validate() const;
  std::map<std::string, std::string> to_metadata() const;
  static ConditionalLmConfig from_metadata(const std::map<std::string, std::string>& meta);
};

template <class T>
struct ConditionalLm : NamedParams<ConditionalLm<T>, T> {
  ConditionalLmConfig config;
  Tensor<T> embedding, cond_embedding, cond_init;
  RnnParams<T> rnn;
  Tensor<T> w_out, b_out;
  Tensor<T> w_end, b_end;  // the stop or length head (H), (1); empty for eos

  ConditionalLm() = default;
  explicit ConditionalLm(const ConditionalLmConfig& cfg);
  // The end head is named for its kind: stop.* or length.*.
  static void visit_params(auto& self, auto&& f) {
    f("embedding.weight", self.embedding);
    if (self.config.uses_input()) f("cond.weight", self.cond_embedding);
    if (self.config.uses_init()) f("init.weight", self.cond_init);
    visit_submodule("rnn.", self.rnn, f);
    f("decoder.weight", self.w_out);
    f("decoder.bias", self.b_out);
    if (self.config.ending != SequenceEnding::eos) {
      const std::string head = self.config.ending == SequenceEnding::stop ? "stop" : "length";
      f(head + ".weight", self.w_end);
      f(head + ".bias", self.b_end);
    }
  }
};

template <class T>
void init_conditional_lm(ConditionalLm<T>& m, Rng& rng);

// One padded, time-major batch of texts. inputs/targets (T*B): BOS b_1..b_n / b_1..b_n EOS, the
// padding targets -1; lengths (B) = n + 1; conditions (B) in [0, K), or vectors (B*K).
struct ClmBatch {
  int64_t steps = 0, batch = 0;
  std::vector<int64_t> inputs, targets, lengths, conditions;
  std::vector<float> vectors;
};
// Builds the batch for the given texts (bytes) and class conditions.
ClmBatch make_clm_batch(const std::vector<const std::string*>& texts,
                        const std::vector<int64_t>& conditions);
// ... or condition vectors, K values per text.
ClmBatch make_clm_vector_batch(const std::vector<const std::string*>& texts, std::vector<float> vectors);

// Mean cross-entropy (nats per target) of the batch; with `grads`, BPTT accumulating into grads.
// `count` receives the number of targets scored; `ending_loss` the stop head's mean binary
// cross-entropy or the length head's mean squared error (0 for eos).
template <class T>
T conditional_lm_batch(const ConditionalLm<T>& model, ConditionalLm<T>* grads, const ClmBatch& b,
                       const RnnRunOptions& opt, int64_t* count = nullptr, T* ending_loss = nullptr);

// `count` texts for `condition`, sampled byte by byte (temperature; top-k when > 0) until the
// model's ending says so (EOS, the stop head, or the predicted length) or `max_len` bytes. A model
// with the remaining length as input writes `target_length` bytes (required, at most max_len).
std::vector<std::string> sample_conditional_lm(const ConditionalLm<float>& model, int64_t condition,
                                               int64_t count, int64_t max_len, double temperature,
                                               int64_t top_k, Rng& rng, int64_t target_length = 0);
// One text per condition vector (vectors: count * K values), for a model of vectors.
std::vector<std::string> sample_conditional_lm(const ConditionalLm<float>& model,
                                               const std::vector<float>& vectors, int64_t max_len,
                                               double temperature, int64_t top_k, Rng& rng,
                                               int64_t target_length = 0);

}  // namespace recur
