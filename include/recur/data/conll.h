// Tagged sequences for synchronous (N -> N) tagging, in a CoNLL-style text file: one token per
// line, `token<TAB>tag`, and an empty line between sequences.
//
//   in<TAB>Cap          <- sequence 1, token 1
//   the<TAB>lower
//   beginning<TAB>lower,period
//                       <- empty line: the sequence ends
//   and<TAB>Cap         <- sequence 2
//
// UTF-8, lines ending in "\n" (the last may lack it). Any number of empty lines separate sequences
// (and may lead or trail). Every other line must be exactly a token, one tab, and a tag, neither
// empty nor holding whitespace (tokens are words: a space inside one is a mistake, not data). Lines
// of only whitespace, more than one tab, carriage returns (CRLF files), invalid UTF-8 and a file
// with no sequence are errors naming "file:line" (the file alone for the last).
#pragma once

#include <string>
#include <vector>

namespace recur {

struct TaggedSequence {
  std::vector<std::string> tokens;
  std::vector<std::string> tags;  // one per token
  bool operator==(const TaggedSequence&) const = default;
};

// Reads a CoNLL-style file. Throws recur::Error naming "path:line" and what was expected.
std::vector<TaggedSequence> read_conll(const std::string& path);

// Writes sequences in the format above, atomically (write_file_atomic). Every sequence must be one
// that read_conll gives back: at least one token, as many tags as tokens, tokens and tags non-empty
// and without whitespace, valid UTF-8; and there must be at least one sequence. Otherwise throws
// recur::Error naming `path` and the sequence (0-based) before writing anything.
void write_conll(const std::string& path, const std::vector<TaggedSequence>& sequences);

}  // namespace recur
