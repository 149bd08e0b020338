// Encoder-decoder training (N -> M): minibatches of similar-length pairs (train/batching.h),
// shuffled every epoch, scheduled sampling, validation after every epoch (teacher-forced loss, and
// the token and sequence error rates of greedy decoding), metrics as JSON lines and a plot, atomic
// checkpoints that resume exactly, a clean stop on request (Ctrl-C), and a final report on the test
// set with the chosen decoding (greedy or beam search).
//
// Data: pairs files (data/pairs.h: source<TAB>target, tokens separated by spaces) for train /
// validation / test. Vocabularies from the training pairs (data/token_index.h).
//
// Scheduled sampling (Bengio et al. 2015): the probability p of feeding the true previous token
// follows the training progress u = step / total steps, from p_start to p_end:
//   constant         p = p_start
//   linear           p = p_start + (p_end - p_start) u
//   inverse-sigmoid  p = p_end + (p_start - p_end) / (1 + exp(10 (u - 1/2)))
//                    (flat near p_start at first, steepest half way, flat near p_end at the end)
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "recur/models/seq2seq_model.h"
#include "recur/train/train_settings.h"

namespace recur {

enum class SamplingSchedule { constant, linear, inverse_sigmoid };
SamplingSchedule parse_sampling_schedule(const std::string& name);  // "constant", "linear", "inverse-sigmoid"
const char* sampling_schedule_name(SamplingSchedule s);
// p at progress u in [0, 1].
double teacher_forcing_probability(SamplingSchedule s, double p_start, double p_end, double u);

struct Seq2SeqTrainConfig {
  // Data
  std::string train_path, valid_path, test_path;  // pairs files (test optional)
  int64_t max_tokens = 100000;                    // cap of each vocabulary
  int64_t min_count = 1;                          // training count a token needs for its own id
  // Model
  RnnConfig encoder;  // cell, hidden_size, num_layers, bidirectional, dropout (input_size is set)
  RnnConfig decoder;  // cell, hidden_size, num_layers, dropout (input_size is set)
  int64_t source_embed = 64, target_embed = 64;
  ContextKind context = ContextKind::bahdanau;
  ContextUse use = ContextUse::both;
  int64_t attention_size = 0;  // 0: the decoder's hidden size
  RecurrentInit init = RecurrentInit::uniform;
  double dropout = 0;  // on the embeddings and o_t (seq2seq.h); the RNNs' own is in their configs
  // Optimisation and outputs (recur/train/train_settings.h): the model at train.out_path, its
  // metrics, plot and checkpoint beside it
  TrainSettings train{.batch = 64};
  // Scheduled sampling
  SamplingSchedule sampling = SamplingSchedule::constant;
  double teacher_forcing_start = 1.0, teacher_forcing_end = 1.0;
  // Evaluation
  DecodeOptions decode;  // the final test report's decoding (validation is always greedy)

  void validate() const;
};

struct Seq2SeqTrainResult {
  int64_t steps_done = 0;
  int64_t epochs_done = 0;
  bool interrupted = false;
  Seq2SeqEvaluation validation;  // greedy
  Seq2SeqEvaluation test;        // with cfg.decode; test.errors.items == 0 without a test set
  double seconds = 0;
  Seq2SeqModel model;
};

Seq2SeqTrainResult train_seq2seq(const Seq2SeqTrainConfig& cfg, std::ostream& log);

}  // namespace recur
