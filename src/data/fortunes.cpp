// Fortune files: parsing and terminal cleaning, the language and topic classes, and the filtered,
// deduplicated, capped, hash-split data sets (the rules are in include/recur/data/fortunes.h).
#include "recur/data/fortunes.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <filesystem>
#include <set>
#include <unordered_map>
#include <utility>

#include "recur/core/error.h"
#include "recur/io/file.h"

namespace recur {
namespace {

namespace fs = std::filesystem;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f'; }

// Bytes in the UTF-8 sequence led by `c` (the text has been checked to be valid UTF-8).
size_t sequence_length(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

// Drops what a terminal interprets rather than shows: ANSI escape sequences (CSI: ESC '[', bytes
// 0x20-0x3F, one final byte 0x40-0x7E; any other ESC is dropped alone), carriage returns, and every
// control character but tab. Backspaces stay for overprint().
std::string strip_controls(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    const unsigned char c = (unsigned char)line[i];
    if (c == 0x1B) {
      if (i + 1 < line.size() && line[i + 1] == '[') {
        size_t j = i + 2;
        while (j < line.size() && (unsigned char)line[j] >= 0x20 && (unsigned char)line[j] <= 0x3F)
          ++j;
        if (j < line.size() && (unsigned char)line[j] >= 0x40 && (unsigned char)line[j] <= 0x7E)
          ++j;
        i = j - 1;
      }
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\b') || c == 0x7F) continue;
    out += char(c);
  }
  return out;
}

// The line as a terminal shows it: a backspace moves back one character and the next character
// replaces the one there, except that an underscore (underlining) never hides a character. So
// "_\bn" and "n\b_" are "n", "__\b\bUN" is "UN", and "'\be" is "e".
std::string overprint(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t cursor = 0;
  for (size_t i = 0; i < line.size();) {
    if (line[i] == '\b') {
      if (cursor > 0) --cursor;
      ++i;
      continue;
    }
    const std::string_view ch = line.substr(i, sequence_length((unsigned char)line[i]));
    i += ch.size();
    if (cursor == cells.size())
      cells.push_back(ch);
    else if (ch != "_")
      cells[cursor] = ch;
    ++cursor;
  }
  std::string out;
  for (std::string_view ch : cells) out += ch;
  return out;
}

// '%' and nothing else but whitespace.
bool is_separator(std::string_view line) {
  return !line.empty() && line[0] == '%' &&
         std::all_of(line.begin() + 1, line.end(), [](char c) { return is_space(c); });
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// The cleaned, trimmed, non-empty entries of a fortune file's bytes (valid UTF-8).
std::vector<std::string> parse_fortunes(std::string_view bytes) {
  std::vector<std::string> entries;
  std::string entry;
  const auto flush = [&] {
    std::string t = trim(entry);
    if (!t.empty()) entries.push_back(std::move(t));
    entry.clear();
  };
  for (size_t start = 0; start < bytes.size();) {
    size_t end = bytes.find('\n', start);
    if (end == std::string_view::npos) end = bytes.size();
    std::string line = strip_controls(bytes.substr(start, end - start));
    start = end + 1;
    if (line.find('\b') != std::string::npos) line = overprint(line);
    if (is_separator(line)) {
      flush();
    } else {
      entry += line;
      entry += '\n';
    }
  }
  flush();
  return entries;
}

// "byte 0xe9 at line 12": where a file stops being UTF-8.
std::string describe_invalid_utf8(std::string_view bytes, size_t offset) {
  char hex[8];
  std::snprintf(hex, sizeof(hex), "0x%02x", (unsigned char)bytes[offset]);
  const auto line = 1 + std::count(bytes.begin(), bytes.begin() + std::ptrdiff_t(offset), '\n');
  return "byte " + std::string(hex) + " at line " + std::to_string(line);
}

bool has_suffix(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The files a class reads: its paths, a directory standing for the regular files directly in it
// (sorted; no .dat/.u8 companions, no subdirectories), less the class's exclusions.
std::vector<std::string> class_files(const std::string& root, const FortuneClass& c) {
  const std::set<std::string> exclude(c.exclude.begin(), c.exclude.end());
  std::vector<std::string> files;
  for (const std::string& rel : c.paths) {
    const fs::path path = fs::path(root) / rel;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    RECUR_CHECK(fs::exists(st), "'" << path.string() << "' is missing (class '" << c.label
                                    << "'); install " << c.package << " (scripts/setup.sh)");
    if (!fs::is_directory(st)) {
      files.push_back(path.string());
      continue;
    }
    std::vector<std::string> in_dir;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code file_ec;
      if (!it->is_regular_file(file_ec) || has_suffix(name, ".dat") || has_suffix(name, ".u8") ||
          exclude.count(rel + "/" + name))
        continue;
      in_dir.push_back(it->path().string());
    }
    RECUR_CHECK(!ec, "cannot list '" << path.string() << "': " << ec.message());
    RECUR_CHECK(!in_dir.empty(), "'" << path.string() << "' holds no fortune files (class '"
                                     << c.label << "'); reinstall " << c.package
                                     << " (scripts/setup.sh)");
    std::sort(in_dir.begin(), in_dir.end());
    files.insert(files.end(), in_dir.begin(), in_dir.end());
  }
  return files;
}

// Steps 1-3: reads every class's files into text -> the classes it was found in (one bit each),
// counting files, entries and entries of an allowed length into ds.stats; lists skipped files.
std::unordered_map<std::string, uint64_t> read_classes(const std::string& root,
                                                       const std::vector<FortuneClass>& classes,
                                                       const FortuneFilter& filter,
                                                       FortuneDataset& ds) {
  std::unordered_map<std::string, uint64_t> classes_of;
  for (size_t k = 0; k < classes.size(); ++k) {
    FortuneClassStats& s = ds.stats[k];
    for (const std::string& path : class_files(root, classes[k])) {
      const std::string bytes = read_file_bytes(path);
      const size_t bad = find_invalid_utf8(bytes);
      if (bad != std::string::npos) {
        ds.skipped.push_back(path + ": " + describe_invalid_utf8(bytes, bad) +
                             " is not valid UTF-8; file skipped");
        continue;
      }
      ++s.files;
      for (std::string& entry : parse_fortunes(bytes)) {
        ++s.entries;
        const int64_t n = utf8_code_points(entry);
        if (n < filter.min_chars || n > filter.max_chars) continue;
        ++s.in_range;
        classes_of[std::move(entry)] |= uint64_t(1) << k;
      }
    }
  }
  return classes_of;
}

// 0-7 train, 8 validation, 9 test.
Split split_of_hash(uint64_t hash) {
  const uint64_t bucket = hash % 10;
  return bucket < 8 ? Split::train : bucket == 8 ? Split::valid : Split::test;
}

}  // namespace

std::vector<std::string> read_fortune_file(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  const size_t bad = find_invalid_utf8(bytes);
  RECUR_CHECK(bad == std::string::npos,
              "'" << path << "': " << describe_invalid_utf8(bytes, bad)
                  << " is not valid UTF-8; expected a UTF-8 fortune file");
  return parse_fortunes(bytes);
}

std::vector<FortuneClass> fortune_language_classes() {
  // English: the top-level files of `fortunes` and `fortunes-min` (which `fortunes` depends on)
  // but ascii-art (pictures) and translate-me (Latin sentences with English glosses). The other
  // top-level names are the Italian files of fortunes-it (symlinks into it/) and the br and zh
  // files, which are read under their own classes.
  const std::vector<std::string> english = {
      "art",        "computers", "cookie",   "debian",   "definitions", "disclaimer",
      "drugs",      "education", "ethnic",   "food",     "fortunes",    "goedel",
      "humorists",  "kids",      "knghtbrd", "law",      "linux",       "linuxcookie",
      "literature", "love",      "magic",    "medicine", "men-women",   "miscellaneous",
      "news",       "paradoxum", "people",   "perl",     "pets",        "platitudes",
      "politics",   "pratchett", "riddles",  "science",  "songs-poems", "sports",
      "startrek",   "tao",       "wisdom",   "work",     "zippy"};
  // Left out of the other languages: cs/klasik-sk is Slovak (cz/ and sk/ are symlinks into cs/ and
  // are not read); de/asciiart and it/banner are pictures; de/translations pairs English and German
  // phrases; pl/newyear is an English IRC log. Subdirectories (es/off, off/) are never read.
  return {
      {"bg", "fortunes-bg", {"bg"}, {}},
      {"br", "fortunes-br", {"brasil"}, {}},
      {"cs", "fortunes-cs", {"cs"}, {"cs/klasik-sk"}},
      {"de", "fortunes-de", {"de"}, {"de/asciiart", "de/translations"}},
      {"en", "fortunes", english, {}},
      {"eo", "fortunes-eo", {"eo"}, {}},
      {"es", "fortunes-es", {"es"}, {}},
      {"ga", "fortunes-ga", {"ga"}, {}},
      {"it", "fortunes-it", {"it"}, {"it/banner"}},
      {"pl", "fortunes-pl", {"pl"}, {"pl/newyear"}},
      {"ru", "fortunes-ru", {"ru"}, {}},
      {"zh", "fortunes-zh", {"chinese", "song100", "tang300"}, {}},
  };
}

std::vector<FortuneClass> fortune_topic_classes() {
  // Categories of `fortunes` about one clearly distinct subject, with about 150 entries or more
  // (110 to 840 of 20-400 code points). Left out: medicine (74 entries); linux (overlaps
  // computers); people, men-women, work, wisdom, humorists, cookie and the like, which are
  // collections of any subject rather than topics.
  std::vector<FortuneClass> classes;
  for (const char* topic : {"computers", "drugs", "education", "food", "law", "love", "politics",
                            "science", "sports", "startrek"})
    classes.push_back({topic, "fortunes", {topic}, {}});
  return classes;
}

Split split_of(std::string_view text) { return split_of_hash(fnv1a64(text)); }

FortuneDataset build_fortune_dataset(const std::string& root,
                                     const std::vector<FortuneClass>& classes,
                                     const FortuneFilter& filter) {
  RECUR_CHECK(filter.min_chars >= 1 && filter.min_chars <= filter.max_chars,
              "the entry length range is " << filter.min_chars << ".." << filter.max_chars
                                           << " code points; expected 1 <= min <= max");
  RECUR_CHECK(filter.max_per_class >= 1,
              "at most " << filter.max_per_class << " texts per class; expected at least 1");
  // read_classes keeps one bit per class.
  RECUR_CHECK(!classes.empty() && classes.size() <= 64, classes.size()
                                                            << " classes; expected 1 to 64");
  std::error_code ec;
  RECUR_CHECK(fs::is_directory(root, ec),
              "'" << root
                  << "' is not a directory; expected Debian's fortune files there (install "
                     "fortunes and the fortunes-xx packages: scripts/setup.sh)");

  FortuneDataset ds;
  for (const FortuneClass& c : classes) {
    for (const FortuneClassStats& s : ds.stats)
      RECUR_CHECK(s.label != c.label, "two classes are labeled '" << c.label << "'");
    ds.stats.push_back({.label = c.label});
  }
  const std::unordered_map<std::string, uint64_t> classes_of =
      read_classes(root, classes, filter, ds);

  // Texts of exactly one class, with their hashes, per class.
  std::vector<std::vector<std::pair<uint64_t, const std::string*>>> texts(classes.size());
  for (const auto& [text, mask] : classes_of) {
    if (std::has_single_bit(mask)) {
      texts[size_t(std::countr_zero(mask))].push_back({fnv1a64(text), &text});
      continue;
    }
    for (size_t k = 0; k < classes.size(); ++k) ds.stats[k].shared += (mask >> k) & 1;
  }
  const auto by_hash = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : *a.second < *b.second;
  };
  std::vector<std::pair<uint64_t, LabeledText>> splits[3];  // indexed by Split
  for (size_t k = 0; k < classes.size(); ++k) {
    FortuneClassStats& s = ds.stats[k];
    auto& mine = texts[k];
    s.unique = int64_t(mine.size());
    RECUR_CHECK(!mine.empty(), "class '" << s.label << "' has no text of " << filter.min_chars
                                         << ".." << filter.max_chars << " code points in its "
                                         << s.files << " file(s) under '" << root << "'");
    std::sort(mine.begin(), mine.end(), by_hash);
    if (int64_t(mine.size()) > filter.max_per_class) mine.resize(size_t(filter.max_per_class));
    for (const auto& [hash, text] : mine) {
      const Split split = split_of_hash(hash);
      ++(split == Split::train ? s.train : split == Split::valid ? s.valid : s.test);
      splits[int(split)].push_back({hash, LabeledText{s.label, *text}});
    }
  }
  std::vector<LabeledText>* outs[3] = {&ds.train, &ds.valid, &ds.test};
  for (int i = 0; i < 3; ++i) {
    std::sort(splits[i].begin(), splits[i].end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second.text < b.second.text;
    });
    for (auto& [hash, row] : splits[i]) outs[i]->push_back(std::move(row));
  }
  return ds;
}

}  // namespace recur
