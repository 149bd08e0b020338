// TokenIndex: the frequency-capped token -> id map of pre-tokenised text, and its metadata form.
#include "recur/data/token_index.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "recur/core/error.h"

namespace recur {

TokenIndex TokenIndex::build(const std::vector<TaggedSequence>& train, int64_t max_words,
                             int64_t min_count, const std::string& source) {
  std::vector<const std::vector<std::string>*> tokens;
  for (const TaggedSequence& q : train) tokens.push_back(&q.tokens);
  return build(tokens, max_words, min_count, source);
}

TokenIndex TokenIndex::build(const std::vector<const std::vector<std::string>*>& train,
                             int64_t max_words, int64_t min_count, const std::string& source) {
  RECUR_CHECK(max_words > 0, "the word cap must be positive, got " << max_words);
  RECUR_CHECK(min_count > 0, "the minimum count must be positive, got " << min_count);
  struct Seen {
    int64_t count = 0, first = 0;
  };
  std::unordered_map<std::string, Seen> seen;
  int64_t position = 0;
  for (const std::vector<std::string>* q : train)
    for (const std::string& t : *q) {
      Seen& s = seen[t];
      if (s.count++ == 0) s.first = position;
      ++position;
    }
  std::vector<std::pair<std::string, Seen>> kept;
  for (const auto& [t, s] : seen)
    if (s.count >= min_count && t != kUnknown) kept.push_back({t, s});
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second.count != b.second.count ? a.second.count > b.second.count
                                            : a.second.first < b.second.first;
  });
  if (int64_t(kept.size()) > max_words) kept.resize(size_t(max_words));
  RECUR_CHECK(!kept.empty(), source << ": no token occurs " << min_count
                                    << " times or more; lower the minimum count");
  TokenIndex x;
  x.tokens_.push_back(kUnknown);
  for (const auto& k : kept) x.tokens_.push_back(k.first);
  x.index();
  return x;
}

void TokenIndex::index() {
  ids_.clear();
  for (size_t i = 0; i < tokens_.size(); ++i) ids_.emplace(tokens_[i], int64_t(i));
}

int64_t TokenIndex::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? 0 : it->second;
}

std::vector<int64_t> TokenIndex::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& t : tokens) ids.push_back(id(t));
  return ids;
}

std::map<std::string, std::string> TokenIndex::to_metadata(const std::string& key) const {
  return {{key, nlohmann::json(tokens_).dump()}};
}

TokenIndex TokenIndex::from_metadata(const std::map<std::string, std::string>& meta,
                                     const std::string& source, const std::string& key) {
  auto it = meta.find(key);
  RECUR_CHECK(it != meta.end(), source << ": no '" << key << "' (a vocabulary) in the metadata");
  TokenIndex x;
  try {
    x.tokens_ = nlohmann::json::parse(it->second).get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    RECUR_FAIL(source << ": metadata '" << key << "' is not a JSON array of strings: " << e.what());
  }
  RECUR_CHECK(!x.tokens_.empty() && x.tokens_[0] == kUnknown,
              source << ": metadata '" << key << "' must start with \"" << kUnknown << "\"");
  x.index();
  RECUR_CHECK(x.ids_.size() == x.tokens_.size(),
              source << ": metadata '" << key << "' repeats a token");
  return x;
}

}  // namespace recur
