// Labeled texts for classification: one example per line of a UTF-8 file, `label<TAB>text`.
//
// In the text, `\n`, `\t`, `\r` and `\\` stand for newline, tab, carriage return and backslash, so
// a multi-line text fits on one line; no other backslash sequence is allowed. Lines end with "\n";
// a fully empty line is skipped, anything else must be an example: a label (no surrounding
// whitespace), one tab, and a text that is not only whitespace. Raw tabs and carriage returns
// inside the text are errors (they must be escaped), and so is a file with no examples.
//
//   en<TAB>He who laughs last\n\t-- proverb     ->  {"en", "He who laughs last\n\t-- proverb"}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recur {

struct LabeledText {
  std::string label;
  std::string text;
  bool operator==(const LabeledText&) const = default;
};

// Reads a labeled TSV file. Throws recur::Error naming the file and the 1-based line
// ("data/train.tsv:12: ...") for every malformed line, and for a file without examples.
std::vector<LabeledText> read_labeled_tsv(const std::string& path);

// Writes rows in the format above, atomically (write_file_atomic). Every row must be one that
// read_labeled_tsv accepts: a non-empty label without tab, newline, carriage return or surrounding
// whitespace, a text that is not only whitespace, both valid UTF-8; and there must be at least one
// row. Otherwise throws recur::Error naming `path` and the row (0-based) before writing anything.
void write_labeled_tsv(const std::string& path, const std::vector<LabeledText>& rows);

// UTF-8 helpers shared by the text loaders.
// Offset of the first byte that does not start a valid UTF-8 sequence (overlong forms, surrogates
// and code points above U+10FFFF are invalid), or std::string_view::npos when all of `s` is valid.
size_t find_invalid_utf8(std::string_view s);
// Number of code points in valid UTF-8 text (the bytes that do not continue a sequence).
int64_t utf8_code_points(std::string_view s);

}  // namespace recur
