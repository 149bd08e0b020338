// LanguageModel: a vocabulary plus a SequenceModel that predicts the next token; evaluation
// (bits per token, perplexity) and sampling (temperature, top-k). Saved as safetensors with the
// network config and the vocabulary in __metadata__ (task = "lm").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "recur/data/vocab.h"
#include "recur/models/sequence_model.h"

namespace recur {

struct LanguageModel {
  Vocab vocab;
  SequenceModel<float> net;
  // Reads the text from its end: p(x_T) p(x_{T-1} | x_T) ... (the seeds' right-to-left
  // factorisation). Its ids run backwards; the helpers below turn text into them and back.
  bool right_to_left = false;
};

// The text's ids in the order the model reads them (reversed for a right-to-left model).
std::vector<int64_t> encode_in_model_order(const LanguageModel& lm, const std::string& text,
                                           const std::string& what);
// Ids in the model's order back into text as it is read.
std::string decode_in_reading_order(const LanguageModel& lm, std::vector<int64_t> ids);
// For the paths that feed a model token by token to a client (serving, the C API, diagnostics,
// ONNX graphs), which read left to right: a right-to-left model is refused, naming `user`.
void require_left_to_right(const LanguageModel& lm, const std::string& path, const char* user);

std::map<std::string, std::string> language_model_metadata(const LanguageModel& lm);
// Writes the model atomically; `extra` metadata is added (e.g. training summary).
void save_language_model(const std::string& path, const LanguageModel& lm,
                         const std::map<std::string, std::string>& extra = {});
// Reads a model written by save_language_model; anything else is an error naming the file.
LanguageModel load_language_model(const std::string& path);

struct LmEvaluation {
  double nats_per_token = 0;
  int64_t tokens = 0;
  double bits_per_token() const;
  double perplexity() const;
};

// Mean negative log-likelihood of ids[1..] given the preceding ids, read as `streams` contiguous
// pieces in windows of `seq_len` with the state carried across windows (each piece starts from a
// zero state). precision: of the recurrent layers' products (recur/core/gemm.h). A data-parallel
// rank scores only its share of the pieces (`rank` of `ranks`, recur/dist/communicator.h's share);
// tokens says how many it scored (0 when its share is empty), and the ranks' nats_per_token *
// tokens add up to the whole evaluation's.
LmEvaluation evaluate_language_model(const SequenceModel<float>& net, const std::vector<int64_t>& ids,
                                     int64_t seq_len, int64_t streams,
                                     Precision precision = Precision::fp32, int rank = 0,
                                     int ranks = 1);

struct SampleOptions {
  int64_t length = 300;
  double temperature = 1.0;  // > 0; below 1 sharpens, above 1 flattens
  int64_t top_k = 0;         // 0: the whole vocabulary; else only the k most likely tokens
};

// Feeds `prime` (at least one token), then draws `length` tokens, one step at a time through
// SequenceModelStream. on_token (optional) sees each token as it is drawn; returning false stops
// the generation there (a client gone).
std::vector<int64_t> sample_language_model(const SequenceModel<float>& net,
                                           const std::vector<int64_t>& prime,
                                           const SampleOptions& opt, Rng& rng,
                                           const std::function<bool(int64_t)>& on_token = {});

}  // namespace recur
