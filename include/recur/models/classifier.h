// SequenceClassifier: a sequence in, one class out (the seeds' N -> 1 mode).
//
//   input -> [embedding] -> [dropout] -> encoder (stacked, optionally bidirectional RNN) -> head
//         -> [dropout] -> [dense: linear -> ReLU -> dropout] -> linear -> softmax or sigmoid
//
// With `dense`, `output = sigmoid`, `input_dropout` and a words vocabulary this is the seeds' Keras
// IMDB recipe: Embedding(10000,128) -> LSTM(128, dropout 0.2) -> Dense(16, relu) -> Dense(1, sigmoid).
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
// Output: softmax over C logits, or (sigmoid, 2 classes) one logit z with p(class 1) = sigmoid(z)
// and binary cross-entropy. A sigmoid model reports the logits (0, z): their softmax is
// (1 - sigmoid(z), sigmoid(z)), so evaluation and prediction treat both outputs alike.
//
// Dropout (training only, inverted): `input_dropout` on the encoder's input, one mask per sequence
// for all its steps (as Keras's LSTM(dropout=p)); `head_dropout` on the head's features (Text-RNN's
// concatenation) and on the dense layer's output.
//
// Key: T = time, B = batch, E = embedding (or feature) size, H = hidden, D = directions,
//      F = the head's feature size, K = the output layer's input (dense or F), C = classes,
//      O = logits (1 for sigmoid, else C).
// Parameters (PyTorch-style names): embedding.weight (V,E) [tokens only]; rnn.* (encoder);
//   top.* (textrnn2: an LSTM with input D*H); proj.weight (P, D*H + E), proj.bias (P) [rcnn];
//   dense.weight (K,F), dense.bias (K) [dense]; classifier.weight (O,K), classifier.bias (O).
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
enum class ClassifierOutput { softmax, sigmoid };

ClassifierHead parse_classifier_head(const std::string& name);  // "pool", "textrnn2", "rcnn"
const char* classifier_head_name(ClassifierHead h);
Pooling parse_pooling(const std::string& name);  // "last", "mean", "max"
const char* pooling_name(Pooling p);
ClassifierOutput parse_classifier_output(const std::string& name);  // "softmax", "sigmoid"
const char* classifier_output_name(ClassifierOutput o);

struct ClassifierConfig {
  int64_t vocab = 0;      // token input: vocabulary size (0 for dense input)
  int64_t features = 0;   // dense input: values per step (0 for token input)
  int64_t embed = 0;      // token input: embedding size; encoder input = embed or features
  RnnConfig rnn;          // the encoder
  ClassifierHead head = ClassifierHead::pool;
  Pooling pooling = Pooling::last;  // head = pool
  int64_t top_hidden = 0;           // textrnn2: second LSTM's hidden size; rcnn: projection size
  int64_t dense = 0;                // a ReLU layer of this size before the output (0: none)
  ClassifierOutput output = ClassifierOutput::softmax;  // sigmoid: 2 classes, one logit
  double input_dropout = 0;         // training: on the encoder's input, a mask per sequence
  double head_dropout = 0;          // training: on the head's features and the dense output
  int64_t classes = 0;

  bool tokens() const { return vocab > 0; }
  int64_t input_size() const { return tokens() ? embed : features; }
  int64_t head_features() const;  // F
  int64_t output_inputs() const { return dense > 0 ? dense : head_features(); }  // K
  int64_t logits() const { return output == ClassifierOutput::sigmoid ? 1 : classes; }  // O
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
  Tensor<T> w_dense;    // (K,F), dense only
  Tensor<T> b_dense;    // (K)
  Tensor<T> w_out;      // (O,K)
  Tensor<T> b_out;      // (O)

  SequenceClassifier() = default;
  explicit SequenceClassifier(const ClassifierConfig& cfg);  // zeros of the right shapes

  // In module order: embedding, rnn, top, proj, dense, classifier.
  static void visit_params(auto& self, auto&& f) {
    if (self.config.tokens()) f("embedding.weight", self.embedding);
    visit_submodule("rnn.", self.rnn, f);
    if (self.config.head == ClassifierHead::textrnn2) visit_submodule("top.", self.top, f);
    if (self.config.head == ClassifierHead::rcnn) {
      f("proj.weight", self.w_proj);
      f("proj.bias", self.b_proj);
    }
    if (self.config.dense > 0) {
      f("dense.weight", self.w_dense);
      f("dense.bias", self.b_dense);
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
// cross-entropy in nats over the labelled sequences; `logits` receives (B,C) when not nullptr
// (for a sigmoid output, (0, z) per sequence).
template <class T>
T classifier_batch(const SequenceClassifier<T>& model, SequenceClassifier<T>* grads,
                   const ClassifierBatch<T>& batch, const RnnRunOptions& opt,
                   Tensor<T>* logits = nullptr);

}  // namespace recur
