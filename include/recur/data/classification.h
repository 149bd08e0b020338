// Examples for sequence classification: labelled text (TSV, see labeled.h) turned into token ids,
// or images read row by row (IDX, see idx.h) as sequences of pixel vectors.
//
// Text is tokenised as bytes (ids 0..255: every text encodes, whatever its script, so a language
// identifier needs no vocabulary) or as words (a vocabulary of the training texts' most frequent
// words, the rest <unk>; see vocab.h). Sequences longer than `max_len` tokens keep their first
// max_len, or their last (keep_last: Keras's pad_sequences default, truncating='pre'). Labels are
// named by strings; their ids follow sorted order of the training labels.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "recur/data/idx.h"
#include "recur/data/labeled.h"
#include "recur/data/vocab.h"

namespace recur {

struct Example {
  std::vector<int64_t> tokens;  // token input
  std::vector<float> values;    // dense input: steps x features, row-major
  int64_t steps = 0;
  int64_t label = -1;
};

class TextEncoder {
 public:
  static TextEncoder bytes();
  static TextEncoder words(const std::vector<LabeledText>& train, int64_t max_words,
                           const std::string& source);
  TokenMode mode() const { return mode_; }
  bool keep_last = false;  // a text over max_len tokens keeps its last ones (default: its first)
  int64_t vocab_size() const { return mode_ == TokenMode::chars ? 256 : words_.size(); }
  // At most max_len ids (max_len > 0; see keep_last); an empty result is an error naming `source`.
  std::vector<int64_t> encode(const std::string& text, int64_t max_len,
                              const std::string& source) const;
  std::map<std::string, std::string> to_metadata() const;
  static TextEncoder from_metadata(const std::map<std::string, std::string>& meta,
                                   const std::string& source);

 private:
  TokenMode mode_ = TokenMode::chars;
  Vocab words_;
};

class LabelSet {
 public:
  LabelSet() = default;
  explicit LabelSet(const std::vector<LabeledText>& train);  // the distinct labels, sorted
  int64_t size() const { return int64_t(names_.size()); }
  const std::string& name(int64_t id) const { return names_.at(size_t(id)); }
  const std::vector<std::string>& names() const { return names_; }
  // A label the training set did not have is an error naming `source`.
  int64_t id(const std::string& name, const std::string& source) const;
  std::string to_json() const;
  static LabelSet from_json(const std::string& json, const std::string& source);
  static LabelSet numbered(int64_t count);  // "0", "1", ...

 private:
  std::vector<std::string> names_;
};

std::vector<Example> encode_labeled(const std::vector<LabeledText>& rows, const TextEncoder& enc,
                                    const LabelSet& labels, int64_t max_len,
                                    const std::string& source);

// Images as sequences: one step per row, one feature per column, pixel / 255.
std::vector<Example> image_row_sequences(const IdxImages& images, const std::vector<uint8_t>& labels,
                                         const std::string& source);

}  // namespace recur
