// Classifier training: minibatches of similar-length examples, shuffled every epoch, validation
// (loss, accuracy) after every epoch, metrics as JSON lines and a plot, atomic checkpoints that
// resume exactly, a clean stop on request (Ctrl-C), and a final report on the test set.
//
// Data: labelled text files (`label<TAB>text`, see data/labeled.h) for train / validation / test,
// a Fashion-MNIST-style IDX directory (train-* and t10k-* image and label files): images are
// read row by row (28 steps of 28 pixels); validation is the last `val_fraction` of the training
// images, the t10k files are the test set; or a directory of the user's own .npy arrays
// (data/arrays.h: x_train.npy (N, T, F), y_train.npy (N,), optional lengths_train.npy, and the
// same for valid, else the last `val_fraction` of train, and optionally test).
//
// Batching: length_pooled_batches (train/batching.h), reshuffled every epoch.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "recur/models/classifier_model.h"
#include "recur/train/train_settings.h"

namespace recur {

struct ClassifierTrainConfig {
  // Data
  std::string train_path, valid_path, test_path;  // labelled text (test optional)
  std::string idx_dir;                            // or: images (Fashion-MNIST layout)
  std::string arrays_dir;                         // or: .npy arrays (data/arrays.h)
  double val_fraction = 0.1;                      // images, arrays: held out from train
  TokenMode tokens = TokenMode::chars;            // text: bytes or words
  int64_t max_words = 20000;                      // words: vocabulary cap
  int64_t max_len = 400;                          // text: tokens kept per example
  bool keep_last = false;                         // text: keep the last max_len (default: first)
  // Model
  RnnConfig rnn;  // cell, hidden_size, num_layers, bidirectional, dropout (input_size is set)
  int64_t embed = 64;
  ClassifierHead head = ClassifierHead::pool;
  Pooling pooling = Pooling::last;
  int64_t top_hidden = 128;
  int64_t dense = 0;                                    // ReLU layer before the output (0: none)
  ClassifierOutput output = ClassifierOutput::softmax;  // sigmoid: binary cross-entropy
  double input_dropout = 0, head_dropout = 0;
  RecurrentInit init = RecurrentInit::uniform;
  // Optimisation and outputs (recur/train/train_settings.h): the model at train.out_path, its
  // metrics, plot, confusion matrix and checkpoint beside it
  TrainSettings train;

  void validate() const;
  std::string confusion_path() const;  // <stem>.confusion.svg (test set, or validation)
};

struct ClassifierTrainResult {
  int64_t steps_done = 0;
  int64_t epochs_done = 0;
  bool interrupted = false;
  ClassifierEvaluation validation;
  ClassifierEvaluation test;  // examples == 0 when there is no test set
  double seconds = 0;
  ClassifierModel model;
};

ClassifierTrainResult train_classifier(const ClassifierTrainConfig& cfg, std::ostream& log);

// The examples of a data set as the trainer reads them (for `recur eval-classifier`): text files
// through the model's encoder, or IDX images.
struct ClassifierData {
  std::vector<Example> train, valid, test;
};
ClassifierData load_classifier_images(const std::string& idx_dir, double val_fraction);
// Arrays: the valid split is held out from train when the directory has none. Every split's
// labels are checked against `classes` (0: the training labels' largest + 1) and its features
// per step against `features` (0: train's).
ClassifierData load_classifier_arrays(const std::string& dir, double val_fraction,
                                      int64_t classes = 0, int64_t features = 0);

}  // namespace recur
