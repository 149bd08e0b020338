// Punctuation and capitalisation restoration as a tagging task: text becomes a sequence of
// lower-cased words without punctuation, each word tagged with its casing and the punctuation mark
// that follows it; a tagger that predicts the tags restores the text. docs/tagging.md has the
// measured data set and model.
//
// Words. A word is a run of ASCII letters, digits, apostrophes, hyphens and non-ASCII (UTF-8)
// bytes, after these rules: "--" inside a run is a dash and separates words; leading hyphens and
// apostrophes are dropped, and so are trailing hyphens; a trailing apostrophe is kept only after an
// s (the plural possessive: "Levites'"), otherwise it is a closing quote and dropped; a run left
// with no letter, digit or non-ASCII byte is not a word. So "brother's", "God-ward" and "Moses'"
// are words, and "(", "--" and a lone "-" are not. Before this, typographic marks are made ASCII:
// ’ ‘ -> ', “ ” -> ", – — -> --, … -> . (so "said…" ends in a period). Tokens are the words
// lower-cased (ASCII letters only; other characters are kept as they are).
//
// Tags: casing + punctuation, written "Cap,comma", "UPPER,period", "lower,question", and for no
// punctuation just the casing: "lower", "Cap", "UPPER" (3 x 7 = 21 possible tags).
//   casing  UPPER  the part of the word before its first apostrophe has 2+ ASCII letters, all
//                  upper-case ("LORD", "LORD's", "GOD"); restored by upper-casing that part
//           Cap    otherwise, the first ASCII letter is upper-case ("In", "I", "O", "Beth-el");
//                  restored by upper-casing the first letter
//           lower  otherwise ("the"; also inner capitals after a lower-case first letter, which
//                  restoration cannot bring back: rare, none in the KJV)
//   punct   the first of , . : ; ? ! between the word and the next word (or the end of the
//           sequence): comma period colon semicolon question exclamation, or none. Everything else
//           between words (brackets, quotes, dashes) is dropped and not restored: the KJV's
//           "(for she died) that" is "for she died that"; "Philistim,)" is a comma.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recur/data/conll.h"

namespace recur {

enum class Casing { lower, cap, upper };
enum class Punct { none, comma, period, colon, semicolon, question, exclamation };
constexpr int kNumCasings = 3, kNumPuncts = 7;

const char* casing_name(Casing c);  // "lower", "Cap", "UPPER"
const char* punct_name(Punct p);    // "none", "comma", "period", ...
char punct_mark(Punct p);           // 0 for none, else ',' '.' ':' ';' '?' '!'

struct RestorationTag {
  Casing casing = Casing::lower;
  Punct punct = Punct::none;
  bool operator==(const RestorationTag&) const = default;
};

std::string restoration_tag_name(RestorationTag t);  // "lower", "Cap,comma", ...
// Parses a tag name of the scheme above; false (out untouched) for any other string.
bool parse_restoration_tag(std::string_view name, RestorationTag* out);

// A text as lower-cased words with their restoration tags (names as restoration_tag_name).
TaggedSequence punctuation_sequence(std::string_view text);
// The words of a text only, as the tagger reads them (punctuation_sequence(text).tokens).
std::vector<std::string> plain_words(std::string_view text);
// Words (as punctuation_sequence gives them) with tags -> text: each word re-cased and followed by
// its mark, joined by single spaces. restore_text of punctuation_sequence(s) is s with single
// spaces and without brackets, quotes and dashes.
std::string restore_text(const std::vector<std::string>& words,
                         const std::vector<RestorationTag>& tags);

// How a text file is cut into sequences:
//   bible      the layout of Debian's `bible` command (bible-kjv): chapter titles ("Genesis 1")
//              between empty lines, each verse starting "  N text" and wrapped onto lines of its
//              own; one sequence per verse, the reference (chapter title, verse number) stripped.
//   lines      one sequence per non-empty line.
//   sentences  running text (lines joined), cut after every word tagged period, question or
//              exclamation.
enum class TextLayout { bible, lines, sentences };
TextLayout parse_text_layout(const std::string& name);  // "bible", "lines", "sentences"
const char* text_layout_name(TextLayout layout);

// The verses of `bible` output, each one line of text (its wrapped lines joined by single spaces),
// without the reference. A line that fits none of the layout's kinds (a continuation line outside
// any verse, a verse line without its number) throws recur::Error naming "source:line"; so does a
// text without verses.
std::vector<std::string> bible_verses(const std::string& text, const std::string& source);

// The data set: every unit of the text (by `layout`) becomes a sequence; units without words are
// skipped and so are those of more than `max_words` words (0: no cap). A sequence goes to a split
// by h = fnv1a64(its restored text, i.e. restore_text of its words and tags) % 10: 0-7 train,
// 8 validation, 9 test; so identical verses share a split and the split of a verse never depends
// on the rest of the file. Each split keeps the order of the text.
struct PunctuationDataset {
  std::vector<TaggedSequence> train, valid, test;
  int64_t units = 0;     // units found in the text
  int64_t empty = 0;     // skipped: no words
  int64_t too_long = 0;  // skipped: more than max_words words
};
PunctuationDataset build_punctuation_dataset(const std::string& text, TextLayout layout,
                                             int64_t max_words, const std::string& source);

}  // namespace recur
