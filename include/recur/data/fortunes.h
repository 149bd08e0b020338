// Fortune files (Debian's `fortunes*` packages, /usr/share/games/fortunes) and the two text
// classification data sets built from them: language identification (12 languages) and English
// topics. docs/data.md lists the sources, the rules below and the measured counts.
//
// A fortune file holds entries separated by lines that hold a single '%' (trailing whitespace
// allowed: some files have "% " or "%\r"). The files are meant for a terminal, so each entry is
// cleaned to the text a terminal would show: carriage returns, ANSI escape sequences (ESC [ ... m,
// the colours of the Chinese files) and other control characters but tab and newline are removed,
// and backspace overprinting ("_\bX" underlines X, "'\be" accents e) keeps the character printed
// last, except that an underscore never hides a character. Entries are then trimmed; empty ones
// are dropped.
//
// Data set rules, in order:
//   1. every file of every class is read (.dat and .u8 companions and subdirectories such as es/off
//      are not); a file that is not valid UTF-8 is skipped whole and reported, never decoded by
//      guesswork (none of the files installed by the packages is: docs/data.md);
//   2. an entry is kept if its length in code points is in [min_chars, max_chars];
//   3. exact duplicates are removed; a text found in two classes is dropped from both (ambiguous);
//   4. a class with more than max_per_class texts keeps the max_per_class with the smallest
//      fnv1a64(text) (ties by text): a fixed pseudo-random sample, whatever the file order;
//   5. each text goes to a split by fnv1a64(text) % 10: 0-7 train, 8 validation, 9 test.
// Each split is sorted by (fnv1a64(text), text), which mixes the classes, so the output depends
// only on the installed files, not on directory order or the machine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "recur/core/hash.h"
#include "recur/data/labeled.h"

namespace recur {

// The entries of one fortune file, cleaned and trimmed as above. Throws recur::Error naming the
// file and the line when it cannot be read or is not valid UTF-8.
std::vector<std::string> read_fortune_file(const std::string& path);

// One class: its label, the Debian package that installs its files (named in the error when they
// are missing), and paths relative to the fortunes root. A directory stands for the fortune files
// directly in it, less `exclude` (paths relative to the root as well).
struct FortuneClass {
  std::string label, package;
  std::vector<std::string> paths, exclude;
};

// Language identification: bg br cs de en eo es ga it pl ru zh (br is Brazilian Portuguese; en is
// a fixed list of the English top-level files of `fortunes` and `fortunes-min`).
std::vector<FortuneClass> fortune_language_classes();
// English topics: computers drugs education food law love politics science sports startrek.
std::vector<FortuneClass> fortune_topic_classes();

struct FortuneFilter {
  int64_t min_chars = 20, max_chars = 400;  // inclusive bounds on an entry's length in code points
  int64_t max_per_class = 2000;
};

enum class Split { train, valid, test };

// The split of a text: fnv1a64(text) % 10: 0-7 train, 8 validation, 9 test.
Split split_of(std::string_view text);

// What happened to one class, step by step (the numbers of the rules above).
struct FortuneClassStats {
  std::string label;
  int64_t files = 0;                       // 1: files read
  int64_t entries = 0;                     // 1: entries read from them
  int64_t in_range = 0;                    // 2: entries of an allowed length
  int64_t shared = 0;                      // 3: distinct texts also found in another class, dropped
  int64_t unique = 0;                      // 3: distinct texts of this class only
  int64_t train = 0, valid = 0, test = 0;  // 4-5: what was kept, per split
};

struct FortuneDataset {
  std::vector<LabeledText> train, valid, test;
  std::vector<FortuneClassStats> stats;  // one per class, in class order
  std::vector<std::string> skipped;      // "path: why" for each file that was not read
};

// Builds a data set from the classes' files under `root` by the rules above. Throws recur::Error
// when root or a class's path is missing (naming the package to install), when a class ends up
// with no text, or when the filter is invalid.
FortuneDataset build_fortune_dataset(const std::string& root,
                                     const std::vector<FortuneClass>& classes,
                                     const FortuneFilter& filter);

}  // namespace recur
