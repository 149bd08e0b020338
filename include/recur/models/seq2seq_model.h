// Seq2SeqModel: a trained encoder-decoder with its two vocabularies, saved as safetensors (task =
// "seq2seq"; the network config, "source_tokens" and "target_tokens" in __metadata__), and its
// evaluation: token error rate and sequence error rate against one or more references.
//
// Vocabularies (data/token_index.h): source ids are the source index's (0 = <unk>); target ids are
// 2 + the target index's (0 and 1 are the network's <s> and </s>, 2 is <unk>).
//
// Scoring, as grapheme-to-phoneme work reports it (e.g. Yao & Zweig 2015): the pairs that share a
// source are one item with several references (a word's alternative pronunciations). For each item
// the hypothesis is compared with every reference by Levenshtein distance over tokens, and the
// closest reference counts:
//   token error rate (PER for phonemes) = sum of closest distances / sum of those references' lengths
//   sequence error rate (WER for words)  = share of items whose hypothesis equals no reference
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recur/data/pairs.h"
#include "recur/data/token_index.h"
#include "recur/models/seq2seq.h"

namespace recur {

struct Seq2SeqModel {
  TokenIndex source, target;
  Seq2Seq<float> net;  // config.source_vocab = source.size(), target_vocab = 2 + target.size()

  std::vector<int64_t> encode_source(const std::vector<std::string>& tokens) const;
  std::vector<int64_t> encode_target(const std::vector<std::string>& tokens) const;
  std::vector<std::string> decode_target(const std::vector<int64_t>& ids) const;
};

void save_seq2seq_model(const std::string& path, const Seq2SeqModel& m,
                        const std::map<std::string, std::string>& extra = {});
Seq2SeqModel load_seq2seq_model(const std::string& path);

// A source as `recur translate` and `recur serve` read it: its space-separated tokens, or with
// `chars` each of its characters (bytes; blanks dropped).
std::vector<std::string> split_source(const std::string& text, bool chars);
// Tokens joined by single spaces, as sources and outputs are printed.
std::string join_tokens(const std::vector<std::string>& tokens);

// A pair as ids.
struct Seq2SeqExample {
  std::vector<int64_t> source, target;
};
std::vector<Seq2SeqExample> encode_pairs(const Seq2SeqModel& m, const std::vector<SequencePair>& pairs);

// Levenshtein distance between token sequences (unit costs).
int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b);

struct SequenceErrors {
  int64_t items = 0, items_wrong = 0;
  int64_t reference_tokens = 0, token_errors = 0;
  // Scores one hypothesis against its references (the closest one counts); returns the index of
  // that reference (ties: the longer one).
  size_t add(const std::vector<std::string>& hypothesis,
             const std::vector<const std::vector<std::string>*>& references);
  double token_error_rate() const {
    return reference_tokens ? double(token_errors) / double(reference_tokens) : 0.0;
  }
  double sequence_error_rate() const { return items ? double(items_wrong) / double(items) : 0.0; }
};

// The distinct sources of `pairs` in order of first appearance, each with its references.
struct SourceGroup {
  const std::vector<std::string>* source;
  std::vector<const std::vector<std::string>*> references;
};
std::vector<SourceGroup> group_by_source(const std::vector<SequencePair>& pairs);

struct DecodeOptions {
  int64_t beam = 1;      // 1: greedy
  double alpha = 1.0;    // beam's length normalisation (seq2seq.h)
  int64_t batch = 256;   // sources per greedy pass
  int64_t max_len = 0;   // 0: 2 * source length + 10
};

// Decodes every source (greedy batches of similar lengths, or one beam search each).
std::vector<std::vector<std::string>> decode_sources(
    const Seq2SeqModel& m, const std::vector<const std::vector<std::string>*>& sources,
    const DecodeOptions& opt);

struct Seq2SeqEvaluation {
  double loss_nats = 0;  // teacher-forced cross-entropy per target token (EOS included)
  int64_t tokens = 0;
  SequenceErrors errors;
  // A few items for a report: source, hypothesis, the closest reference.
  struct Sample {
    std::vector<std::string> source, hypothesis, reference;
  };
  std::vector<Sample> samples;  // the first wrong items, up to 10
};

Seq2SeqEvaluation evaluate_seq2seq(const Seq2SeqModel& m, const std::vector<SequencePair>& pairs,
                                   const DecodeOptions& opt);

// "PER 7.12% (1234 errors / 17333 reference tokens), WER 28.50% (...)" and the samples.
std::string seq2seq_report(const Seq2SeqEvaluation& ev);

}  // namespace recur
