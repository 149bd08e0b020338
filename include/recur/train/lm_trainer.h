// Character-level language-model training on a text file: stateful truncated BPTT over contiguous
// streams (the char-rnn way), validation on the file's tail, sampling. Used by `recur train-lm`.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "recur/models/sequence_model.h"
#include "recur/train/optimizer.h"

namespace recur {

// Byte-level vocabulary: the distinct bytes of the text, sorted.
struct CharVocab {
  std::vector<unsigned char> symbols;  // id -> byte
  int64_t id_of[256];                  // byte -> id, or -1
  explicit CharVocab(const std::string& text = "");
  static CharVocab from_symbols(const std::vector<unsigned char>& symbols);
  int64_t size() const { return int64_t(symbols.size()); }
  std::vector<int64_t> encode(const std::string& text, const std::string& source) const;

 private:
  void index();  // rebuilds id_of from symbols
};

struct LmTrainConfig {
  std::string text_path;
  std::string out_path;            // model .safetensors (written atomically at the end)
  RnnConfig rnn;                   // cell, hidden_size, num_layers, dropout (input_size = embed)
  int64_t embed = 64;
  RecurrentInit init = RecurrentInit::uniform;
  int64_t seq_len = 100;           // truncated-BPTT window
  int64_t batch = 32;              // parallel streams
  int64_t steps = 1000;
  OptimizerConfig optimizer;
  double clip = 5.0;               // global-norm clipping threshold (0: off)
  double val_fraction = 0.05;      // the file's last fraction is the validation split
  int64_t max_val_chars = 200000;  // validation is capped to this many characters of the tail
  uint64_t seed = 1;
  int64_t log_every = 50;
  int64_t sample_length = 300;
  double temperature = 0.8;
  void validate() const;
};

struct LmTrainResult {
  double train_loss = 0;  // mean nats/char over the last log interval
  double val_bpc = 0, val_perplexity = 0;
  int64_t val_chars = 0;
  double seconds = 0;
  int64_t tokens_trained = 0;
  std::string sample;
};

LmTrainResult train_char_lm(const LmTrainConfig& cfg, std::ostream& log);

// Mean negative log-likelihood (nats/char) of `ids` under the model, streamed in `streams` parallel
// contiguous pieces with the state carried across windows.
double evaluate_char_lm(const SequenceModel<float>& model, const std::vector<int64_t>& ids,
                        int64_t seq_len, int64_t streams, int64_t* scored);

// Samples `length` characters after `prime` (at least one character) at `temperature`.
std::string sample_char_lm(const SequenceModel<float>& model, const CharVocab& vocab,
                           const std::string& prime, int64_t length, double temperature, Rng& rng);

}  // namespace recur
