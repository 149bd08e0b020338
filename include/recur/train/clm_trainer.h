// Training a conditional language model (the seeds' 1 -> N mode) on labelled text: each example's
// label is its condition, its text (bytes, the first max_len, cut at a character boundary) what
// the model learns to write for it. Or on the user's condition vectors (`arrays_dir`: x_train.npy
// (N, K) with y_train.txt, N lines of text; the same for valid): each text is written for its
// vector, e.g. an image's description for the image. Length-pooled batches reshuffled every epoch, validation
// (bits per byte) after each epoch, metrics, plot, atomic checkpoints each epoch and on Ctrl-C,
// exact --resume. The saved model (task = "conditional-lm") carries the condition names.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "recur/data/classification.h"
#include "recur/models/conditional_lm.h"
#include "recur/train/train_settings.h"

namespace recur {

struct ConditionalTextModel {
  LabelSet conditions;
  ConditionalLm<float> net;
};
void save_conditional_text_model(const std::string& path, const ConditionalTextModel& m,
                                 const std::map<std::string, std::string>& extra = {});
ConditionalTextModel load_conditional_text_model(const std::string& path);

struct ClmTrainConfig {
  std::string train_path, valid_path;  // label<TAB>text
  std::string arrays_dir;              // or: condition vectors and their texts
  int64_t max_len = 300;               // bytes kept per text
  ConditionMode mode = ConditionMode::both;
  SequenceEnding ending = SequenceEnding::eos;  // how samples end (recur/models/conditional_lm.h)
  TimeInput time_input = TimeInput::none;       // the step's index or the bytes still to write
  RnnConfig rnn;                       // cell, hidden, layers, dropout (input size is set)
  int64_t embed = 32, cond_embed = 16;
  // Optimisation and outputs (recur/train/train_settings.h): the model at train.out_path, its
  // metrics, plot and checkpoint beside it
  TrainSettings train{.epochs = 5};

  void validate() const;
};

struct ClmTrainResult {
  int64_t steps_done = 0, epochs_done = 0;
  bool interrupted = false;
  double validation_bits = 0;  // bits per target byte (EOS included)
  double seconds = 0;
  ConditionalTextModel model;
};

ClmTrainResult train_conditional_lm(const ClmTrainConfig& cfg, std::ostream& log);

// Texts with their conditions: class ids, or vectors of `width` values each.
struct ClmTexts {
  std::vector<std::string> texts;
  std::vector<int64_t> conditions;
  std::vector<float> vectors;
  int64_t width = 0;
  size_t size() const { return texts.size(); }
  ClmBatch batch(const std::vector<size_t>& indices) const;
  ClmTexts slice(size_t begin, size_t end) const;
};

// Condition vectors from .npy: (N, K), every value finite. Errors name the file and the index.
Tensor<float> read_condition_vectors(const std::string& path);
// A text per line of the file (a final newline ends the last line), each cut to max_len bytes at a
// character boundary; an empty line is an error naming it.
std::vector<std::string> read_text_lines(const std::string& path, int64_t max_len);
// A directory's split as vectors and texts: x_<split>.npy and y_<split>.txt (read as above), with
// as many lines as vectors.
ClmTexts read_clm_arrays(const std::string& dir, const std::string& split, int64_t max_len);

// Bits per target byte of the model on its texts; `targets` receives the number of target bytes
// scored.
double evaluate_conditional_lm(const ConditionalLm<float>& net, const ClmTexts& data, int64_t batch,
                               int64_t* targets = nullptr);

}  // namespace recur
