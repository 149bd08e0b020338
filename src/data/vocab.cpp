// Character and word vocabularies, tokenisation, and the tail validation split.
#include "recur/data/vocab.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "recur/core/enum_names.h"
#include "recur/core/error.h"
#include "recur/data/labeled.h"

namespace recur {

constexpr EnumNames<TokenMode, 2> kTokenModeNames{
    {{TokenMode::chars, "char"}, {TokenMode::words, "word"}}};

TokenMode parse_token_mode(const std::string& name) {
  return parse_enum(kTokenModeNames, name, "token mode");
}
const char* token_mode_name(TokenMode mode) { return enum_name(kTokenModeNames, mode); }

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not valid UTF-8.
size_t utf8_length(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return (unsigned char)s[k]; };
  const unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  // Overlong forms, surrogates and code points above U+10FFFF too (the shared strict check):
  // nlohmann::json refuses to write them, so a vocabulary holding one could not be saved.
  return find_invalid_utf8(std::string_view(s).substr(i, n)) == std::string_view::npos ? n : 0;
}

bool is_word_byte(unsigned char c) { return std::isalnum(c) || c == '\'' || c >= 0x80; }

}  // namespace

std::vector<std::string> Vocab::split_words(const std::string& text, const std::string& source) {
  std::vector<std::string> out;
  std::string word;
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    RECUR_CHECK(n > 0, source << ": byte " << int((unsigned char)text[i]) << " at offset " << i
                              << " (line " << line
                              << ") is not valid UTF-8; word mode needs UTF-8 text (or use "
                                 "--tokens char)");
    const unsigned char c = (unsigned char)text[i];
    if (is_word_byte(c)) {
      word.append(text, i, n);
    } else {
      if (!word.empty()) out.push_back(std::move(word)), word.clear();
      if (c == '\n') {
        out.push_back("\n");
        ++line;
      } else if (!std::isspace(c)) {
        out.push_back(std::string(1, char(c)));
      }
    }
    i += n;
  }
  if (!word.empty()) out.push_back(word);
  return out;
}

Vocab Vocab::build(const std::string& text, TokenMode mode, int64_t max_words,
                   const std::string& source) {
  RECUR_CHECK(!text.empty(), source << " is empty; expected text");
  Vocab v;
  v.mode_ = mode;
  if (mode == TokenMode::chars) {
    bool seen[256] = {};
    for (unsigned char ch : text) seen[ch] = true;
    for (int b = 0; b < 256; ++b)
      if (seen[b]) v.tokens_.push_back(std::string(1, char(b)));
  } else {
    RECUR_CHECK(max_words >= 1, "the word vocabulary cap must be at least 1, got " << max_words);
    std::unordered_map<std::string, std::pair<int64_t, int64_t>> counts;  // count, first position
    const std::vector<std::string> words = split_words(text, source);
    RECUR_CHECK(!words.empty(), source << " holds no words");
    for (size_t i = 0; i < words.size(); ++i) {
      auto [it, fresh] = counts.try_emplace(words[i], 0, int64_t(i));
      ++it->second.first;
    }
    std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.second.first != b.second.first ? a.second.first > b.second.first
                                              : a.second.second < b.second.second;
    });
    v.tokens_.push_back(kUnknown);
    for (size_t i = 0; i < sorted.size() && int64_t(v.tokens_.size()) < max_words + 1; ++i)
      v.tokens_.push_back(sorted[i].first);
  }
  v.index();
  return v;
}

void Vocab::index() {
  ids_.clear();
  for (size_t i = 0; i < tokens_.size(); ++i) ids_[tokens_[i]] = int64_t(i);
  unk_ = mode_ == TokenMode::words ? ids_.at(kUnknown) : -1;
}

std::vector<int64_t> Vocab::encode(const std::string& text, const std::string& source) const {
  std::vector<int64_t> ids;
  if (mode_ == TokenMode::chars) {
    ids.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      auto it = ids_.find(std::string(1, text[i]));
      RECUR_CHECK(it != ids_.end(), source << ": byte " << int((unsigned char)text[i])
                                           << " at offset " << i
                                           << " is not in the model's character vocabulary");
      ids.push_back(it->second);
    }
    return ids;
  }
  for (const std::string& w : split_words(text, source)) {
    auto it = ids_.find(w);
    ids.push_back(it == ids_.end() ? unk_ : it->second);
  }
  return ids;
}

std::string Vocab::decode_next(const std::string& so_far, int64_t id) const {
  const std::string& t = token(id);
  if (mode_ == TokenMode::words && !so_far.empty() && so_far.back() != '\n' && t != "\n") return " " + t;
  return t;
}

std::string Vocab::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) out += decode_next(out, id);
  return out;
}

std::map<std::string, std::string> Vocab::to_metadata() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const std::string& t : tokens_) {
    // Bytes that are not UTF-8 on their own (char mode) are stored as their number.
    if (mode_ == TokenMode::chars) arr.push_back(int((unsigned char)t[0]));
    else arr.push_back(t);
  }
  return {{"vocab_mode", token_mode_name(mode_)}, {"vocab", arr.dump()}};
}

Vocab Vocab::from_metadata(const std::map<std::string, std::string>& meta, const std::string& source) {
  auto mode_it = meta.find("vocab_mode");
  auto voc_it = meta.find("vocab");
  RECUR_CHECK(mode_it != meta.end() && voc_it != meta.end(),
              source << ": no vocabulary in the metadata (expected vocab_mode and vocab); is it a "
                        "language model written by recur train-lm?");
  Vocab v;
  v.mode_ = parse_token_mode(mode_it->second);
  nlohmann::json arr;
  try {
    arr = nlohmann::json::parse(voc_it->second);
  } catch (const std::exception& e) {
    RECUR_FAIL(source << ": metadata 'vocab' is not JSON: " << e.what());
  }
  RECUR_CHECK(arr.is_array() && !arr.empty(), source << ": metadata 'vocab' must be a non-empty array");
  for (const auto& t : arr) {
    if (v.mode_ == TokenMode::chars) {
      RECUR_CHECK(t.is_number_integer() && t.get<int>() >= 0 && t.get<int>() < 256,
                  source << ": char vocabulary entries must be byte values 0..255");
      v.tokens_.push_back(std::string(1, char(t.get<int>())));
    } else {
      RECUR_CHECK(t.is_string(), source << ": word vocabulary entries must be strings");
      v.tokens_.push_back(t.get<std::string>());
    }
  }
  RECUR_CHECK(v.mode_ == TokenMode::chars || v.tokens_.front() == kUnknown,
              source << ": a word vocabulary must start with " << kUnknown);
  v.index();
  RECUR_CHECK(int64_t(v.ids_.size()) == v.size(), source << ": the vocabulary repeats a token");
  return v;
}

TextSplit split_text_tail(const std::string& text, double val_fraction) {
  RECUR_CHECK(val_fraction > 0 && val_fraction < 1,
              "validation fraction must be in (0, 1), got " << val_fraction);
  size_t cut = text.size() - size_t(double(text.size()) * val_fraction);
  // Never cut inside a UTF-8 sequence or a word: move to the next whitespace (or the end).
  while (cut < text.size() && !std::isspace((unsigned char)text[cut])) ++cut;
  return {text.substr(0, cut), text.substr(cut)};
}

}  // namespace recur
