// TaggerModel: synchronous tagging (the seeds' N -> N mode), one tag per input token.
//
//   tokens -> embedding -> stacked (bidirectional) RNN -> linear -> softmax, at every step
//
// The network is a SequenceModel (models/sequence_model.h) run over padded batches with
// per-sequence lengths: the reverse direction starts at each sequence's own last token, and the
// padding steps have target -1, so they are never scored. Saved as safetensors with the network
// config, the input words (data/token_index.h) and the tag names in __metadata__ (task = "tag").
//
// Evaluation: mean cross-entropy per token, token accuracy, per-tag precision/recall/F1 with the
// confusion matrix (the classifier's report, models/classifier_model.h), whole sequences correct,
// and the majority-tag baseline. When every tag is a punctuation-restoration tag
// (data/punctuation.h), also the scores that say what the model restores, each beside a positional
// baseline (first word Cap, last word period, everything else lower):
//   punctuation present   binary: a mark after the word or not
//   punctuation mark      micro-averaged over the six marks: a hit is the right mark
//   capitalised           binary: Cap or UPPER against lower
//   per mark, per casing  one-against-the-rest precision/recall/F1
//
// Key: T = time, B = batch, V = input words, C = tags.
//   tokens, targets: (T,B) time-major, targets -1 on padding   logits: (T*B, C)
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recur/data/conll.h"
#include "recur/data/punctuation.h"
#include "recur/data/token_index.h"
#include "recur/models/classifier_model.h"
#include "recur/models/sequence_model.h"

namespace recur {

struct TaggerModel {
  TokenIndex words;
  LabelSet tags;
  SequenceModel<float> net;  // config.outputs == tags.size()
};

void save_tagger_model(const std::string& path, const TaggerModel& m,
                       const std::map<std::string, std::string>& extra = {});
TaggerModel load_tagger_model(const std::string& path);

// True when every tag name is a restoration tag ("lower", "Cap,comma", ...).
bool is_restoration_tagset(const LabelSet& tags);

// A sequence as ids: tokens through the word index, tags through the tag set.
struct TagExample {
  std::vector<int64_t> tokens;
  std::vector<int64_t> tags;  // empty when only predicting
};
// A tag the training data did not have is an error naming `source` and the sequence (1-based).
std::vector<TagExample> encode_tagged(const std::vector<TaggedSequence>& seqs,
                                      const TokenIndex& words, const LabelSet& tags,
                                      const std::string& source);

// One padded, time-major batch: sequence s holds lengths[s] >= 1 steps; padding tokens are 0 and
// padding targets -1.
struct TaggerBatch {
  int64_t steps = 0, batch = 0;
  std::vector<int64_t> tokens, targets;  // (T,B)
  std::vector<int64_t> lengths;          // (B)
};
TaggerBatch make_tagger_batch(const std::vector<TagExample>& examples,
                              const std::vector<size_t>& indices);

// Forward (and with `grads`, BPTT accumulating into grads) of one batch: the mean cross-entropy per
// scored token in nats; `logits` receives (T*B, C) when not null, `count` the scored tokens.
template <class T>
T tagger_batch(const SequenceModel<T>& net, SequenceModel<T>* grads, const TaggerBatch& b,
               const RnnRunOptions& opt, Tensor<T>* logits = nullptr, int64_t* count = nullptr) {
  RnnState<T> state;  // every sequence starts from zero states
  return sequence_model_window(net, grads, b.tokens, b.targets, b.steps, b.batch, state, opt, count,
                               &b.lengths, logits);
}

// Precision, recall and F1 of one binary decision from its counts.
struct PrfCounts {
  int64_t tp = 0, fp = 0, fn = 0;
  double precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0.0; }
  double recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0.0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
};

// The restoration scores of (truth, prediction) pairs (see the header comment).
struct RestorationScores {
  int64_t tokens = 0, correct = 0;
  PrfCounts punct_present, punct_mark, capitalised;
  std::array<PrfCounts, kNumPuncts> per_punct;    // index Punct; [none] unused
  std::array<PrfCounts, kNumCasings> per_casing;  // index Casing
  void add(RestorationTag truth, RestorationTag predicted, int64_t n = 1);
  double accuracy() const { return tokens ? double(correct) / double(tokens) : 0.0; }
};

struct TaggerEvaluation {
  ClassifierEvaluation tokens;  // per token: loss (nats), accuracy, confusion (C,C)
  int64_t sequences = 0, sequences_correct = 0;
  bool restoration = false;  // the two below are filled
  RestorationScores model, positional;
  // The most frequent true tag here (tokens.majority_class()) is the baseline.
  double majority_accuracy() const { return tokens.majority_accuracy(); }
};

TaggerEvaluation evaluate_tagger(const SequenceModel<float>& net, const LabelSet& tags,
                                 const std::vector<TagExample>& examples, int64_t batch);

// The most likely tag of every token of every example (batched by length). `packs`: kept packed
// weights to reuse (a server's, for weights that never change; see RnnPacks); null packs them for
// this call.
std::vector<std::vector<int64_t>> predict_tags(const SequenceModel<float>& net,
                                               const std::vector<TagExample>& examples,
                                               int64_t batch, RnnPacks* packs = nullptr);

// The evaluation as aligned text: summary, baselines, restoration scores, per-tag table and the
// confusion matrix.
std::string tagging_report(const TaggerEvaluation& ev, const LabelSet& tags);

}  // namespace recur
