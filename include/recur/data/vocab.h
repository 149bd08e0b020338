// Token vocabularies for text: characters (bytes) or words, with the train/validation split that
// every language-model tool shares (the validation split is the tail of the file).
//
// chars: every distinct byte of the training text is a token; ids follow byte order.
// words: a word is a run of ASCII letters, digits, apostrophes and non-ASCII characters; every other
//        visible character is a token of its own; a newline is a token ("\n"); spaces and tabs only
//        separate. The `max_words` most frequent tokens of the training text are kept (ties broken by
//        first appearance), everything else maps to "<unk>". Word mode requires valid UTF-8.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace recur {

enum class TokenMode { chars, words };
TokenMode parse_token_mode(const std::string& name);  // "char" or "word"
const char* token_mode_name(TokenMode mode);

class Vocab {
 public:
  static constexpr const char* kUnknown = "<unk>";

  // Builds the vocabulary from training text. `source` names the text in errors.
  static Vocab build(const std::string& text, TokenMode mode, int64_t max_words,
                     const std::string& source);
  // Splits text into tokens (word mode; chars are one byte each). Throws on invalid UTF-8.
  static std::vector<std::string> split_words(const std::string& text, const std::string& source);

  TokenMode mode() const { return mode_; }
  int64_t size() const { return int64_t(tokens_.size()); }
  int64_t unknown_id() const { return unk_; }  // -1 in char mode
  const std::string& token(int64_t id) const { return tokens_.at(size_t(id)); }

  // Text -> ids. chars: a byte outside the vocabulary is an error naming `source` and the offset;
  // words: unknown words map to <unk>.
  std::vector<int64_t> encode(const std::string& text, const std::string& source) const;
  // ids -> text (words are joined with single spaces, except around newlines).
  std::string decode(const std::vector<int64_t>& ids) const;
  // What decode() appends for `id` after `so_far`, the decoding of the ids before it: a streamed
  // reply's next piece, without decoding the whole reply again at every token.
  std::string decode_next(const std::string& so_far, int64_t id) const;

  // Round trip through safetensors metadata ("vocab_mode", "vocab": a JSON array of strings).
  std::map<std::string, std::string> to_metadata() const;
  static Vocab from_metadata(const std::map<std::string, std::string>& meta, const std::string& source);

 private:
  void index();
  TokenMode mode_ = TokenMode::chars;
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  int64_t unk_ = -1;
};

// The shared split: the last `val_fraction` of the text (by bytes, the cut moved forward to the next
// whitespace so that no word or UTF-8 character is split) is validation, the rest training.
struct TextSplit {
  std::string train, validation;
};
TextSplit split_text_tail(const std::string& text, double val_fraction);

}  // namespace recur
