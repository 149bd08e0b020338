// The CMU Pronouncing Dictionary and the grapheme-to-phoneme (G2P) data set built from it: spelling
// in, ARPAbet phonemes out. docs/data.md has the source and the measured counts.
//
// The file is the one Debian's pocketsphinx-en-us installs (kCmudictPath): one pronunciation per
// line, the word, then its phonemes, separated by spaces:
//
//   aaronson AA R AH N S AH N
//   aaronson(2) EH R AH N S AH N     <- the second pronunciation of "aaronson"
//
// Words are lower case and may hold ' - . and digits (c1, m-80); phonemes are the 39 ARPAbet
// symbols without stress marks. `word(n)`, n = 2, 3, ..., is the n-th pronunciation of `word`; it
// must come after the n-1 before it, but not necessarily right after: the file is sorted byte-wise
// on the whole field and ' sorts before (, so `a`, `a's`, `a(2)` is the order of 820 words' lines.
// The reader also takes the upstream variants of the format, none of which occurs in the Debian
// file: fields separated by runs of spaces or tabs (cmudict-0.7b puts two spaces after the word),
// `;;;` comment lines (cmudict-0.7b), a `#` field starting a comment to the end of the line
// (cmudict.dict on GitHub: `d'artagnan D AH0 R T AE1 NG Y AH0 N # foreign french`), and stress
// digits 0-2 after a vowel, which are kept as part of the phoneme. Blank lines are skipped.
//
// The G2P data set, split by WORD so that every pronunciation of a word is in one split:
//   1. words whose characters are not all a-z ' - . are dropped and counted (in the Debian file, 16
//      words with digits: c1..c5, cat-2, m-80, puget-1, ...: their digits are read as number
//      names, "m-80" EH M EY T IY, which is number reading, not spelling, and too rare to learn);
//   2. bucket = fnv1a64(word) % 1000: bucket < test_permille -> test, < test_permille +
//      valid_permille -> valid, else train;
//   3. each split lists its words in the order of their first line in the input, every word's
//      pronunciations together on consecutive rows in their input order (word, word(2), ...);
//   4. a row is source = the word's characters, one token per byte (`a a r o n s o n`), target =
//      the phonemes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recur/data/pairs.h"

namespace recur {

// Where Debian's pocketsphinx-en-us installs the dictionary.
inline constexpr const char* kCmudictPath =
    "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";

struct Pronunciation {
  std::string word;                   // without the "(n)" marker
  std::vector<std::string> phonemes;  // at least one
  bool operator==(const Pronunciation&) const = default;
};

// Reads a dictionary in the format above, in file order. Throws recur::Error naming the file and
// the 1-based line ("cmudict.dict:12: ...") for a malformed line: no phoneme, a phoneme that is
// not upper-case letters with an optional stress digit 0-2, a bad `(n)` marker, an alternative
// without the n-1 before it, a word listed twice without a marker, a carriage return, invalid
// UTF-8; and naming the file when it is missing, unreadable or holds no pronunciation.
std::vector<Pronunciation> read_cmudict(const std::string& path);

// True when `word` is non-empty and all its characters are a-z ' - . (rule 1).
bool is_g2p_word(std::string_view word);

struct G2pSplit {
  std::vector<SequencePair> train, valid, test;  // one row per pronunciation
  int64_t words_train = 0, words_valid = 0, words_test = 0;
  std::vector<std::string> dropped_words;  // rule 1, in input order
  int64_t dropped_pronunciations = 0;      // their pronunciations
};

// Builds the G2P split by the rules above. Throws recur::Error when a permille is negative or
// their sum exceeds 1000, or when a pronunciation has an empty word or no phoneme (naming its
// index).
G2pSplit split_g2p(const std::vector<Pronunciation>& prons, int valid_permille = 50,
                   int test_permille = 50);

}  // namespace recur
