// Seq2Seq: the seeds' encoder-decoder (N -> M mode), e.g. spelling -> pronunciation.
//
// The encoder reads the source (embedding -> stacked, optionally bidirectional RNN); the decoder
// writes the target one token at a time (embedding of the previous token -> stacked RNN -> output
// layer -> softmax) until it writes the end symbol. What links them, the context:
//
//   last      c = h_N, the encoder's final state (top layer; [forward; backward] when
//             bidirectional, so De = D * He)
//   bridge    c = g(h_N) = tanh(W_b h_N + b_b), sized like the decoder (Hd)
//   bahdanau  additive attention (Bahdanau et al. 2015): before the decoder step, the query is the
//             previous decoder state s_{t-1} (top layer), e_i = v . tanh(W_q s_{t-1} + W_k h_i),
//             a = softmax over the source positions, c_t = sum_i a_i h_i; the decoder reads
//             [embed(y_{t-1}); c_t]; output o_t = tanh(W_c [s_t; c_t] + b_c)
//   dot       Luong et al. 2015 with input feeding: the decoder reads [embed(y_{t-1}); o_{t-1}],
//             then the query is s_t: e_i = s_t . h_i (needs Hd = De), c_t as above,
//             o_t = tanh(W_c [s_t; c_t] + b_c), fed to the next step (o_0 = 0)
//   general   as dot with e_i = s_t . (W_k h_i)
//
// and how the fixed contexts (last, bridge) enter the decoder:
//   init   as its initial state: every layer's h0 = c (c0 = 0 for an LSTM)
//   input  as an extra input at every step: the decoder reads [embed(y_{t-1}); c]
//   both   both of the above
// With attention the context always enters as input; `both` then also starts the decoder from the
// bridge g(h_N) (`input` starts it from zeros). Output: logits = W_out o_t + b_out, with o_t = s_t
// (top layer) for the fixed contexts.
//
// Target ids: 0 = <s> (BOS, the first decoder input), 1 = </s> (EOS, the last target); training
// feeds BOS y_1 .. y_n and scores y_1 .. y_n EOS.
//
// Dropout (training only, Seq2SeqTraining): on the source and target token embeddings and on o_t
// before the output layer, besides the RNNs' own dropout between layers.
//
// Teacher forcing and scheduled sampling (Bengio et al. 2015): during training each decoder input
// after the first is, per sequence and step, the true previous token with probability p, else the
// model's own most likely token at the previous step (no gradient flows through that choice).
// p = 1 is plain teacher forcing; the trainer lowers p over the run (train/seq2seq_trainer.h).
//
// Key: S = source steps, T = target steps, B = batch, Vs/Vt = vocabularies, Es/Et = embeddings,
// He/Hd = encoder/decoder hidden, D = encoder directions, De = D*He, A = attention size, L = layers.
// Parameters (PyTorch-style names): encoder.embedding.weight (Vs,Es), encoder.rnn.*,
// decoder.embedding.weight (Vt,Et), decoder.rnn.* (input Et + feed), bridge.weight (Hd,De) and
// bridge.bias (Hd) [bridge; attention with both], attention.key.weight (A,De) [bahdanau, general:
// A = Hd], attention.query.weight (A,Hd) and attention.v (A) [bahdanau], attention.combine.weight
// (Hd, Hd+De) and attention.combine.bias (Hd) [attention], decoder.out.weight (Vt,Hd) and
// decoder.out.bias (Vt).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recur/core/rng.h"
#include "recur/layers/rnn.h"
#include "recur/nn/param_visitor.h"

namespace recur {

enum class ContextKind { last, bridge, bahdanau, dot, general };
ContextKind parse_context_kind(const std::string& name);  // "last", "bridge", "bahdanau", ...
const char* context_kind_name(ContextKind k);

enum class ContextUse { init, input, both };
ContextUse parse_context_use(const std::string& name);  // "init", "input", "both"
const char* context_use_name(ContextUse u);

struct Seq2SeqConfig {
  static constexpr int64_t kBos = 0, kEos = 1;  // target ids
  int64_t source_vocab = 0, target_vocab = 0;    // Vs, Vt (Vt counts BOS and EOS)
  int64_t source_embed = 64, target_embed = 64;  // Es, Et
  RnnConfig encoder;  // input_size = Es
  RnnConfig decoder;  // unidirectional; input_size = Et + feed_width()
  ContextKind context = ContextKind::bahdanau;
  ContextUse use = ContextUse::both;
  int64_t attention_size = 0;  // A for bahdanau (general: Hd; others: unused)

  bool attention() const {
    return context == ContextKind::bahdanau || context == ContextKind::dot ||
           context == ContextKind::general;
  }
  bool input_feeding() const { return context == ContextKind::dot || context == ContextKind::general; }
  bool uses_init() const { return use != ContextUse::input; }
  bool uses_input() const { return use != ContextUse::init; }
  bool has_bridge() const { return context == ContextKind::bridge || (attention() && uses_init()); }
  int64_t encoder_width() const { return encoder.output_size(); }  // De
  int64_t key_width() const;   // A (bahdanau), Hd (general), De (dot), 0 (no attention)
  int64_t feed_width() const;  // what the decoder reads beside the token embedding
  void validate() const;       // throws recur::Error naming the clash
  // safetensors metadata: encoder.* and decoder.* for the two RNNs, plus the fields above.
  std::map<std::string, std::string> to_metadata() const;
  static Seq2SeqConfig from_metadata(const std::map<std::string, std::string>& meta);
};

template <class T>
struct Seq2Seq : NamedParams<Seq2Seq<T>, T> {
  Seq2SeqConfig config;
  Tensor<T> source_embedding, target_embedding;
  RnnParams<T> encoder, decoder;
  Tensor<T> w_bridge, b_bridge;
  Tensor<T> w_key, w_query, v_attention;
  Tensor<T> w_combine, b_combine;
  Tensor<T> w_out, b_out;

  Seq2Seq() = default;
  explicit Seq2Seq(const Seq2SeqConfig& cfg);  // zero weights of the right shapes
  // The optional parts (bridge, attention) are listed when the configuration built them.
  static void visit_params(auto& self, auto&& f) {
    f("encoder.embedding.weight", self.source_embedding);
    visit_submodule("encoder.rnn.", self.encoder, f);
    f("decoder.embedding.weight", self.target_embedding);
    visit_submodule("decoder.rnn.", self.decoder, f);
    if (!self.w_bridge.empty()) {
      f("bridge.weight", self.w_bridge);
      f("bridge.bias", self.b_bridge);
    }
    if (!self.w_key.empty()) f("attention.key.weight", self.w_key);
    if (!self.w_query.empty()) {
      f("attention.query.weight", self.w_query);
      f("attention.v", self.v_attention);
    }
    if (!self.w_combine.empty()) {
      f("attention.combine.weight", self.w_combine);
      f("attention.combine.bias", self.b_combine);
    }
    f("decoder.out.weight", self.w_out);
    f("decoder.out.bias", self.b_out);
  }
};

// Embeddings N(0,1); RNNs by `scheme` (layers/rnn.h); linear layers PyTorch's uniform.
template <class T>
void init_seq2seq(Seq2Seq<T>& m, Rng& rng, RecurrentInit scheme = RecurrentInit::uniform);

// One padded batch. source (S,B) time-major with source_lengths (B, each >= 1), padding 0;
// inputs/targets (T,B): BOS y_1 .. y_n / y_1 .. y_n EOS, padding inputs EOS and targets -1.
struct Seq2SeqBatch {
  int64_t source_steps = 0, target_steps = 0, batch = 0;
  std::vector<int64_t> source, source_lengths, inputs, targets;
};
// Target token ids must be >= 2 (0 and 1 are BOS and EOS).
Seq2SeqBatch make_seq2seq_batch(const std::vector<const std::vector<int64_t>*>& sources,
                                const std::vector<const std::vector<int64_t>*>& targets);

// What changes in training beside RnnRunOptions (the RNNs' own dropout between layers).
struct Seq2SeqTraining {
  double teacher_forcing = 1.0;  // p: the probability of feeding the true previous token
  Rng* rng = nullptr;            // required when p < 1 or dropout > 0
  double dropout = 0.0;          // on the source and target embeddings and on o_t (inverted dropout)
};

// Mean cross-entropy (nats per target token) of the batch; with `grads`, backpropagation through
// both networks, accumulating into grads. `logits` receives (T*B, Vt) when not null, `count` the
// number of scored tokens.
template <class T>
T seq2seq_batch(const Seq2Seq<T>& m, Seq2Seq<T>* grads, const Seq2SeqBatch& b,
                const RnnRunOptions& opt, const Seq2SeqTraining& training = {},
                Tensor<T>* logits = nullptr, int64_t* count = nullptr);

// Decoding (float models). max_len <= 0 means 2 * (source length) + 10 tokens. Outputs exclude BOS
// and EOS. Greedy: the most likely token at every step, batched over the sources.
std::vector<std::vector<int64_t>> seq2seq_greedy(const Seq2Seq<float>& m,
                                                 const std::vector<const std::vector<int64_t>*>& sources,
                                                 int64_t max_len = 0);

struct BeamHypothesis {
  std::vector<int64_t> tokens;  // without BOS and EOS
  double log_prob = 0;          // natural log, EOS included
  double score = 0;             // log_prob / (tokens + 1)^alpha
};
// Beam search with `beam` hypotheses for one source: each step extends every live hypothesis by
// every token, keeps the `beam` best by log-probability, and retires those that end in EOS; it stops
// once `beam` hypotheses have ended (or at max_len, where live ones end). The ended ones are ranked
// by the length-normalised score log P / (length + 1)^alpha (alpha = 0: raw log P, which favours
// short outputs; 1: per-token average). Returns them best first.
std::vector<BeamHypothesis> seq2seq_beam(const Seq2Seq<float>& m, const std::vector<int64_t>& source,
                                         int64_t beam, double alpha = 1.0, int64_t max_len = 0);

}  // namespace recur
