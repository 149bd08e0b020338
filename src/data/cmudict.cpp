// The CMU Pronouncing Dictionary: the strict reader and the by-word G2P split.
#include "recur/data/cmudict.h"

#include <cstdio>
#include <unordered_map>

#include "recur/core/error.h"
#include "recur/core/hash.h"
#include "recur/data/text_lines.h"
#include "recur/io/file.h"

namespace recur {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// An ARPAbet symbol: upper-case ASCII letters, then at most one stress digit 0-2.
bool is_phoneme(std::string_view p) {
  size_t n = p.size();
  if (n > 1 && p[n - 1] >= '0' && p[n - 1] <= '2') --n;
  if (n == 0) return false;
  for (size_t i = 0; i < n; ++i)
    if (p[i] < 'A' || p[i] > 'Z') return false;
  return true;
}

// Splits `key` ("word" or "word(n)") into the word and n (1 without a marker); `where`
// ("file:line") prefixes the error.
std::pair<std::string_view, int64_t> parse_key(std::string_view key, const std::string& where) {
  if (key.back() != ')') return {key, 1};
  const size_t open = key.rfind('(');
  const std::string_view digits =
      open == std::string_view::npos ? "" : key.substr(open + 1, key.size() - open - 2);
  bool ok = open != std::string_view::npos && open > 0 && !digits.empty() && digits.size() <= 6 &&
            digits[0] != '0';
  for (char c : digits) ok = ok && c >= '0' && c <= '9';
  RECUR_CHECK(ok && std::stoll(std::string(digits)) >= 2,
              where << ": bad alternative marker in '" << key
                    << "'; expected word(n) with n = 2, 3, ... after a non-empty word");
  return {key.substr(0, open), std::stoll(std::string(digits))};
}

}  // namespace

std::vector<Pronunciation> read_cmudict(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  std::vector<Pronunciation> prons;
  std::unordered_map<std::string, int64_t> seen;  // word -> pronunciations read so far
  for_each_text_line(bytes, path, [&](std::string_view line, const std::string& where) {
    if (line.starts_with(";;;")) return;  // cmudict-0.7b comment line

    // Fields separated by runs of spaces or tabs, up to a field that starts a '#' comment.
    std::vector<std::pair<std::string_view, size_t>> fields;  // text, 1-based column
    for (size_t i = 0; i < line.size();) {
      if (is_blank(line[i])) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < line.size() && !is_blank(line[j])) ++j;
      if (line[i] == '#') break;
      fields.push_back({line.substr(i, j - i), i + 1});
      i = j;
    }
    if (fields.empty()) return;  // blank (or only a comment)

    const std::string_view key = fields[0].first;
    RECUR_CHECK(fields.size() >= 2,
                where << ": the word '" << key << "' has no phoneme; expected WORD PHONEME...");
    const auto [word, n] = parse_key(key, where);
    int64_t& count = seen[std::string(word)];
    RECUR_CHECK(n == count + 1,
                where << ": '" << key << "' is pronunciation " << n << " of '" << word << "', but "
                      << count << " came before it"
                      << (n == 1 ? " (the word is listed twice; mark alternatives word(2), "
                                   "word(3), ...)"
                                 : "; expected word, word(2), word(3), ... in that order"));
    ++count;
    Pronunciation p{std::string(word), {}};
    for (size_t k = 1; k < fields.size(); ++k) {
      const auto [ph, column] = fields[k];
      RECUR_CHECK(is_phoneme(ph), where << ": '" << ph << "' at column " << column
                                        << " is not a phoneme; expected upper-case ARPAbet "
                                           "letters with an optional stress digit 0-2 (AH, AH0)");
      p.phonemes.emplace_back(ph);
    }
    prons.push_back(std::move(p));
  });
  RECUR_CHECK(!prons.empty(),
              "'" << path << "' holds no pronunciations; expected lines of WORD PHONEME...");
  return prons;
}

bool is_g2p_word(std::string_view word) {
  if (word.empty()) return false;
  for (char c : word)
    if (!((c >= 'a' && c <= 'z') || c == '\'' || c == '-' || c == '.')) return false;
  return true;
}

G2pSplit split_g2p(const std::vector<Pronunciation>& prons, int valid_permille, int test_permille) {
  RECUR_CHECK(valid_permille >= 0 && test_permille >= 0 && valid_permille + test_permille <= 1000,
              "G2P split: valid " << valid_permille << " and test " << test_permille
                                  << " per mille; expected two non-negative numbers adding up "
                                     "to at most 1000");
  // Each word's pronunciations, the words in the order of their first appearance.
  std::vector<std::vector<size_t>> groups;
  std::unordered_map<std::string_view, size_t> group_of;
  for (size_t i = 0; i < prons.size(); ++i) {
    const Pronunciation& p = prons[i];
    RECUR_CHECK(!p.word.empty(), "G2P split: pronunciation " << i << " has an empty word");
    RECUR_CHECK(!p.phonemes.empty(),
                "G2P split: pronunciation " << i << " ('" << p.word << "') has no phoneme");
    const auto [it, added] = group_of.try_emplace(p.word, groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(i);
  }

  G2pSplit out;
  for (const std::vector<size_t>& group : groups) {
    const std::string& word = prons[group[0]].word;
    if (!is_g2p_word(word)) {
      out.dropped_words.push_back(word);
      out.dropped_pronunciations += int64_t(group.size());
      continue;
    }
    const int64_t bucket = int64_t(fnv1a64(word) % 1000);
    std::vector<SequencePair>* rows = &out.train;
    int64_t* words = &out.words_train;
    if (bucket < test_permille)
      rows = &out.test, words = &out.words_test;
    else if (bucket < test_permille + valid_permille)
      rows = &out.valid, words = &out.words_valid;
    ++*words;
    std::vector<std::string> source;
    for (char c : word) source.emplace_back(1, c);
    for (size_t i : group) rows->push_back({source, prons[i].phonemes});
  }
  return out;
}

}  // namespace recur
