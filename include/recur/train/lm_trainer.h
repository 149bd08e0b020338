// Language-model training on a text file: stateful truncated BPTT over contiguous streams (the
// char-rnn way), validation on the file's tail at intervals, metrics as JSON lines, a plot of the
// curves, atomic checkpoints that resume bit for bit, and a clean stop on request (Ctrl-C).
//
// Data: the text is split by split_text_tail (the last val_fraction is validation). The training
// ids are cut into `batch` contiguous streams; step k reads the next seq_len tokens of every stream,
// carrying the recurrent state from the previous window (no gradient flows back into it). When the
// streams run out an epoch ends: the streams restart and the state is reset to zero.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "recur/models/language_model.h"
#include "recur/train/train_settings.h"

namespace recur {

struct LmTrainConfig {
  // Data
  std::string text_path;
  TokenMode tokens = TokenMode::chars;
  int64_t max_words = 10000;   // word mode: vocabulary cap (the rest is <unk>)
  double val_fraction = 0.05;  // the tail of the file
  int64_t val_tokens = 50000;  // periodic validations read at most this many tokens (0: all) as
                               // `batch` streams; the final one reads the whole split as one stream
  bool right_to_left = false;  // read the text from its end (LanguageModel::right_to_left); the
                               // validation split is still the file's tail, read backwards
  // Model
  RnnConfig rnn;               // cell, hidden_size, num_layers, dropout (input_size = embed)
  int64_t embed = 64;
  RecurrentInit init = RecurrentInit::uniform;
  int64_t seq_len = 100;       // truncated-BPTT window
  // Optimisation and outputs (recur/train/train_settings.h): batch counts the parallel streams; the
  // model at train.out_path, its metrics, plot and checkpoint beside it; an on-nan skip also resets
  // the carried state; the cosine schedule needs a known length (steps or epochs). train.epochs
  // stays 0: this trainer's length is its own, below.
  TrainSettings train{.epochs = 0};
  // Length, at least one of them (0: unused)
  int64_t steps = 0;           // total updates (0: use epochs or time)
  double epochs = 0;           // total passes over the training text (0: use steps or time)
  double time_limit = 0;       // seconds of training (0: none); stops after the step that crosses it
  // Intervals
  int64_t val_every = 0;       // validation interval (steps); 0: 10 times per run (or every 500)
  int64_t checkpoint_every = 0;  // steps; 0: only at the end and on interruption
  // Optional: called every step after backward (and the data-parallel reduction) with the 1-based
  // step and the parameters, before the NaN check, clipping and the optimizer: to inspect or change
  // the gradients.
  std::function<void(int64_t step, const std::vector<Param<float>>& params)> after_backward;

  void validate() const;
};

struct LmTrainResult {
  int64_t steps_done = 0;
  bool interrupted = false;
  // --patience (recur/train/early_stopping.h): stopped before the last step; the step whose
  // weights the model holds (-1: off or no finite validation).
  bool stopped_early = false;
  int64_t best_step = -1;
  double train_bits = 0;       // mean over the last log interval
  LmEvaluation validation;     // at the end, of the model's weights
  double seconds = 0;
  int64_t tokens_trained = 0;
  int64_t skipped_steps = 0;   // --on-nan skip
  LanguageModel model;
};

LmTrainResult train_language_model(const LmTrainConfig& cfg, std::ostream& log);

}  // namespace recur
