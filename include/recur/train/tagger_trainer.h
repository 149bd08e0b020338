// Tagger training (N -> N): minibatches of similar-length sequences (train/batching.h), shuffled
// every epoch, validation (loss, token accuracy, and for restoration tags punctuation and
// capitalisation F1) after every epoch, metrics as JSON lines and a plot, atomic checkpoints that
// resume exactly, a clean stop on request (Ctrl-C), and a final report on the test set.
//
// Data: CoNLL-style files (token<TAB>tag lines, an empty line between sequences; data/conll.h) for
// train / validation / test. The input words are the training tokens (data/token_index.h: <unk>,
// then the tokens seen at least min_count times, at most max_words). The output tags, sorted: when
// every training tag is a restoration tag (data/punctuation.h), the whole scheme of 21 tags, so
// that any restoration data can be scored; otherwise the distinct tags of the training, validation
// and test files (one that training lacks is never predicted, and counts as an error where it is
// the truth). At least two distinct tags must occur in training.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "recur/models/tagger_model.h"
#include "recur/train/train_settings.h"

namespace recur {

struct TaggerTrainConfig {
  // Data
  std::string train_path, valid_path, test_path;  // CoNLL files (test optional)
  int64_t max_words = 20000;                      // input vocabulary cap
  int64_t min_count = 2;                          // training count a word needs to get its own id
  // Model
  RnnConfig rnn;  // cell, hidden_size, num_layers, bidirectional, dropout (input_size is set)
  int64_t embed = 64;
  RecurrentInit init = RecurrentInit::uniform;
  // Optimisation and outputs (recur/train/train_settings.h): the model at train.out_path, its
  // metrics, plot, confusion matrix and checkpoint beside it
  TrainSettings train;

  void validate() const;
  std::string confusion_path() const;  // <stem>.confusion.svg (test set, or validation)
};

struct TaggerTrainResult {
  int64_t steps_done = 0;
  int64_t epochs_done = 0;
  bool interrupted = false;
  TaggerEvaluation validation;
  TaggerEvaluation test;  // test.sequences == 0 when there is no test set
  double seconds = 0;
  TaggerModel model;
};

TaggerTrainResult train_tagger(const TaggerTrainConfig& cfg, std::ostream& log);

}  // namespace recur
