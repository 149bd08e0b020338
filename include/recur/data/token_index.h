// TokenIndex: token -> id for text that is already cut into tokens (the words of a CoNLL file), the
// input vocabulary of a tagger.
//
// Built from the training tokens as they are (no further splitting or case folding): id 0 is
// "<unk>", then every token seen at least `min_count` times, most frequent first (ties by first
// appearance), at most `max_words` of them. Any other token reads as <unk>. With min_count = 2 the
// words seen once in training are <unk> there, so the <unk> embedding is trained on rare words and
// means something for the unseen words of new text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "recur/data/conll.h"

namespace recur {

class TokenIndex {
 public:
  static constexpr const char* kUnknown = "<unk>";

  // `source` names the data in errors (no token kept, bad caps).
  static TokenIndex build(const std::vector<const std::vector<std::string>*>& train,
                          int64_t max_words, int64_t min_count, const std::string& source);
  // The tokens of tagged sequences.
  static TokenIndex build(const std::vector<TaggedSequence>& train, int64_t max_words,
                          int64_t min_count, const std::string& source);

  int64_t size() const { return int64_t(tokens_.size()); }  // <unk> included
  int64_t id(const std::string& token) const;               // 0 (<unk>) when unknown
  const std::string& token(int64_t id) const { return tokens_.at(size_t(id)); }
  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;

  // Round trip through safetensors metadata: `key` (default "words") = JSON array of the tokens
  // by id.
  std::map<std::string, std::string> to_metadata(const std::string& key = "words") const;
  static TokenIndex from_metadata(const std::map<std::string, std::string>& meta,
                                  const std::string& source, const std::string& key = "words");

 private:
  void index();
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace recur
