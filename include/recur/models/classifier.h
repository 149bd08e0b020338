// SequenceClassifier: a sequence in, one class out (the seeds' N -> 1 mode).
//
//   input -> [embedding] -> encoder (stacked, optionally bidirectional RNN) -> head -> linear -> softmax
//
// Input is either token ids (text; `vocab` > 0, through an embedding) or dense feature vectors
// (`features` > 0, e.g. the 28 pixels of one image row per step). Sequences in a batch are padded
// to the longest and carry their own lengths; padding never reaches the result.
//
// Heads (the "structure"):
//   pool       pooling of the encoder over each sequence's own steps:
//                last: the final state of each direction, concatenated (forward: at its length;
//                      reverse: at its first step). With a bidirectional LSTM this is the seeds'
//                      Text-RNN v1 (embedding -> BiLSTM -> concat -> softmax).
//                mean: the mean of the outputs over the sequence's steps.
//                max:  the elementwise maximum of the outputs over its steps.
//   textrnn2   the seeds' Text-RNN v2: the encoder's outputs feed a second, unidirectional LSTM
//              (hidden `top_hidden`) whose final state is classified.
//   rcnn       recurrent CNN (Lai et al. 2015): each step's representation is the encoder output
//              (left and right context for a bidirectional encoder) concatenated with the step's
//              own input, z_t = tanh(W_p [y_t; x_t] + b_p) (size `top_hidden`), max-pooled over
//              the steps. (Lai et al. use the context up to the previous word; here the encoder
//              output at the word, which also contains it.)
//
// Key: T = time, B = batch, E = embedding (or feature) size, H = hidden, D = directions,
//      F = the head's feature size, C = classes.
// Parameters (PyTorch-style names): embedding.weight (V,E) [tokens only]; rnn.* (encoder);
//   top.* (textrnn2: an LSTM with input D*H); proj.weight (P, D*H + E), proj.bias (P) [rcnn];
//   classifier.weight (C,F), classifier.bias (C).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "recur/layers/rnn.h"
#include "recur/nn/param_visitor.h"
#include "recur/train/param.h"

namespace recur {

enum class ClassifierHead { pool, textrnn2, rcnn };
enum class Pooling { last, mean, max };

ClassifierHead parse_classifier_head(const std::string& name);  // "pool", "textrnn2", "rcnn"
const char* classifier_head_name(ClassifierHead h);
Pooling parse_pooling(const std::string& name);  // "last", "mean", "max"
const char* pooling_name(Pooling p);

struct ClassifierConfig {
  int64_t vocab = 0;      // token input: vocabulary size (0 for dense input)
  int64_t features = 0;   // dense input: values per step (0 for token input)
  int64_t embed = 0;      // token input: embedding size; encoder input = embed or features
  RnnConfig rnn;          // the encoder
  ClassifierHead head = ClassifierHead::pool;
  Pooling pooling = Pooling::last;  // head = pool
  int64_t top_hidden = 0;           // textrnn2: second LSTM's hidden size; rcnn: projection size
  int64_t classes = 0;

  bool tokens() const { return vocab > 0; }
  int64_t input_size() const { return tokens() ? embed : features; }
  int64_t head_features() const;  // F
  void validate() const;
  std::map<std::string, std::string> to_metadata() const;
  static ClassifierConfig from_metadata(const std::map<std::string, std::string>& meta);
};

template <class T>
struct SequenceClassifier : NamedParams<SequenceClassifier<T>, T> {
  ClassifierConfig config;
  Tensor<T> embedding;  // (V,E), tokens only
  RnnParams<T> rnn;
  RnnParams<T> top;     // textrnn2 only
  Tensor<T> w_proj;     // (P, D*H + E), rcnn only
  Tensor<T> b_proj;     // (P)
  Tensor<T> w_out;      // (C,F)
  Tensor<T> b_out;      // (C)

  SequenceClassifier() = default;
  explicit SequenceClassifier(const ClassifierConfig& cfg);  // zeros of the right shapes

  // In module order: embedding, rnn, top, proj, classifier.
  static void visit_params(auto& self, auto&& f) {
    if (self.config.tokens()) f("embedding.weight", self.embedding);
    visit_submodule("rnn.", self.rnn, f);
    if (self.config.head == ClassifierHead::textrnn2) visit_submodule("top.", self.top, f);
    if (self.config.head == ClassifierHead::rcnn) {
      f("proj.weight", self.w_proj);
      f("proj.bias", self.b_proj);
    }
    f("classifier.weight", self.w_out);
    f("classifier.bias", self.b_out);
  }
};

// PyTorch's defaults: embedding N(0,1), RNNs and linear layers U(-1/sqrt(fan), 1/sqrt(fan)).
template <class T>
void init_classifier(SequenceClassifier<T>& m, Rng& rng, RecurrentInit scheme = RecurrentInit::uniform);

// One padded, time-major batch. Token input: `tokens` (T*B ids; padding entries may hold any valid
// id, e.g. 0). Dense input: `values` (T,B,features). Every length must be in [1, T].
template <class T>
struct ClassifierBatch {
  int64_t steps = 0, batch = 0;
  std::vector<int64_t> tokens;
  Tensor<T> values;
  std::vector<int64_t> lengths;  // (B)
  std::vector<int64_t> labels;   // (B); -1: not scored
};

// Forward (and with `grads`, backward accumulating into grads) of one batch. Returns the mean
// cross-entropy in nats over the labelled sequences; `logits` receives (B,C) when not nullptr.
template <class T>
T classifier_batch(const SequenceClassifier<T>& model, SequenceClassifier<T>* grads,
                   const ClassifierBatch<T>& batch, const RnnRunOptions& opt,
                   Tensor<T>* logits = nullptr);

}  // namespace recur
