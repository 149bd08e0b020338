// Parallel token sequences for sequence-to-sequence tasks (grapheme-to-phoneme, ...): one pair per
// line of a UTF-8 file, `source<TAB>target`, each side a list of tokens separated by single spaces.
//
//   a b o u t<TAB>AH B AW T     ->  {{"a", "b", "o", "u", "t"}, {"AH", "B", "AW", "T"}}
//
// Lines end with "\n" (the last one may lack it); a fully empty line is skipped, anything else must
// be a pair: exactly one tab, a non-empty source and target, and no empty token on either side (so
// no double, leading or trailing space). A token is any run of bytes without space, tab, newline or
// carriage return; there are no escapes. Carriage returns (a CRLF file) and invalid UTF-8 are
// errors, and so is a file with no pair.
#pragma once

#include <string>
#include <vector>

namespace recur {

struct SequencePair {
  std::vector<std::string> source, target;
  bool operator==(const SequencePair&) const = default;
};

// Reads a pairs file. Throws recur::Error naming the file and the 1-based line
// ("data/train.tsv:12: ...") for every malformed line, and naming the file when it is missing,
// unreadable or holds no pair.
std::vector<SequencePair> read_sequence_pairs(const std::string& path);

// Writes pairs in the format above, atomically (write_file_atomic). Every pair must be one that
// read_sequence_pairs accepts: both sides non-empty, every token non-empty, valid UTF-8 and free of
// space, tab, newline and carriage return; and there must be at least one pair. Otherwise throws
// recur::Error naming `path` and the row (0-based) before writing anything.
void write_sequence_pairs(const std::string& path, const std::vector<SequencePair>& pairs);

}  // namespace recur
