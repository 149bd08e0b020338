// The CMU Pronouncing Dictionary reader and the G2P split: alternatives (also when other words sort
// between them), the upstream comment forms, every malformed line named by file:line; a split by
// word that is deterministic, keeps a word's pronunciations together and in order, drops words
// outside a-z ' - . and comes close to the asked proportions; and, where Debian's
// pocketsphinx-en-us is installed, the real dictionary.
#include "recur/data/cmudict.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "expect_error.h"
#include "recur/core/hash.h"
#include "scratch_dir.h"

namespace recur {
namespace {

using testing::WriteRaw;

class CmudictTest : public testing::ScratchDirTest {};

// The word a row of the split spells (its source tokens joined).
std::string Spelling(const SequencePair& p) {
  std::string w;
  for (const std::string& t : p.source) w += t;
  return w;
}

TEST_F(CmudictTest, ReadsAlternativesWithoutTheirMarkerInFileOrder) {
  // As in the Debian file: "a's" sorts between "a" and "a(2)".
  WriteRaw(Path("d.dict"),
           "'bout B AW T\n"
           "a AH\n"
           "a's EY Z\n"
           "a(2) EY\n"
           "aaronson EH R AH N S AH N\n"
           "aaronson(2) AA R AH N S AH N\n"
           "m-80 EH M EY T IY");  // no final newline
  EXPECT_EQ(read_cmudict(Path("d.dict")),
            (std::vector<Pronunciation>{{"'bout", {"B", "AW", "T"}},
                                        {"a", {"AH"}},
                                        {"a's", {"EY", "Z"}},
                                        {"a", {"EY"}},
                                        {"aaronson", {"EH", "R", "AH", "N", "S", "AH", "N"}},
                                        {"aaronson", {"AA", "R", "AH", "N", "S", "AH", "N"}},
                                        {"m-80", {"EH", "M", "EY", "T", "IY"}}}));
}

TEST_F(CmudictTest, TakesTheUpstreamCommentsSpacingAndStressMarks) {
  WriteRaw(Path("d.dict"),
           ";;; cmudict-0.7b comment line\n"
           "\n"
           "ABOUT  AH0 B AW1 T\n"  // two spaces after the word, stress digits kept
           "d'artagnan D AH0 R T AE1 NG Y AH0 N # foreign french\n"
           "the\tDH AH #comment\n"
           "   \n"
           "# only a comment\n");
  EXPECT_EQ(read_cmudict(Path("d.dict")),
            (std::vector<Pronunciation>{
                {"ABOUT", {"AH0", "B", "AW1", "T"}},
                {"d'artagnan", {"D", "AH0", "R", "T", "AE1", "NG", "Y", "AH0", "N"}},
                {"the", {"DH", "AH"}}}));
}

TEST_F(CmudictTest, EveryMalformedLineIsNamedByFileAndLine) {
  struct Case {
    std::string content, needle;
  };
  // Line 2 is the bad one in each file.
  const std::vector<Case> cases = {
      {"a AH\nabout\n", "'about' has no phoneme"},
      {"a AH\nabout # AH B AW T\n", "has no phoneme"},
      {"a AH\nabout ah b aw t\n", "'ah' at column 7 is not a phoneme"},
      {"a AH\nabout AH3 B AW T\n", "'AH3' at column 7 is not a phoneme"},
      {"a AH\nabout AH B-AW T\n", "'B-AW' at column 10 is not a phoneme"},
      {"a AH\na(1) EY\n", "bad alternative marker in 'a(1)'"},
      {"a AH\na(02) EY\n", "bad alternative marker"},
      {"a AH\na(x) EY\n", "bad alternative marker"},
      {"a AH\n(2) EY\n", "bad alternative marker"},
      {"a AH\na) EY\n", "bad alternative marker"},
      {"a AH\na(3) EY\n", "pronunciation 3 of 'a', but 1 came before it"},
      {"a AH\nb(2) B IY\n", "pronunciation 2 of 'b', but 0 came before it"},
      {"a AH\na EY\n", "listed twice"},
      {"a AH\nb B IY\r\n", "carriage return at column 7"},
      {"a AH\ncaf\xe9 K AE F EY\n", "byte 0xe9 at column 4 is not valid UTF-8"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content);
    WriteRaw(Path("bad.dict"), c.content);
    EXPECT_RECUR_ERROR(read_cmudict(Path("bad.dict")), Path("bad.dict") + ":2: ", c.needle);
  }
  WriteRaw(Path("empty.dict"), ";;; nothing but comments\n\n");
  EXPECT_RECUR_ERROR(read_cmudict(Path("empty.dict")), "empty.dict", "no pronunciations");
  EXPECT_RECUR_ERROR(read_cmudict(Path("missing.dict")), "missing.dict");
}

TEST_F(CmudictTest, SplitKeepsAWordsPronunciationsTogetherAndDropsWordsWithDigits) {
  WriteRaw(Path("d.dict"),
           "a AH\n"
           "a's EY Z\n"
           "a(2) EY\n"
           "c1 S IY W AH N\n"
           "c2 S IY T UW\n"
           "cat K AE T\n");
  // All of it in train (0 per mille elsewhere): the order and the rows are visible in one list.
  const G2pSplit all = split_g2p(read_cmudict(Path("d.dict")), 0, 0);
  EXPECT_EQ(all.train, (std::vector<SequencePair>{{{"a"}, {"AH"}},
                                                  {{"a"}, {"EY"}},  // moved up to "a"
                                                  {{"a", "'", "s"}, {"EY", "Z"}},
                                                  {{"c", "a", "t"}, {"K", "AE", "T"}}}));
  EXPECT_EQ(all.words_train, 3);
  EXPECT_TRUE(all.valid.empty() && all.test.empty());
  EXPECT_EQ(all.dropped_words, (std::vector<std::string>{"c1", "c2"}));
  EXPECT_EQ(all.dropped_pronunciations, 2);
  // Everything in test.
  const G2pSplit test = split_g2p(read_cmudict(Path("d.dict")), 0, 1000);
  EXPECT_EQ(test.test, all.train);
  EXPECT_EQ(test.words_test, 3);
}

TEST(CmudictWord, AllowsLowerCaseLettersApostropheHyphenAndPeriod) {
  EXPECT_TRUE(is_g2p_word("about"));
  EXPECT_TRUE(is_g2p_word("'bout"));
  EXPECT_TRUE(is_g2p_word("one-on-one"));
  EXPECT_TRUE(is_g2p_word("a.m."));
  EXPECT_FALSE(is_g2p_word(""));
  EXPECT_FALSE(is_g2p_word("m-80"));
  EXPECT_FALSE(is_g2p_word("About"));
  EXPECT_FALSE(is_g2p_word("caf\xc3\xa9"));
  EXPECT_FALSE(is_g2p_word("new york"));
}

// A synthetic dictionary: `words` words, every third one with a second pronunciation listed
// after the next word (as "a(2)" comes after "a's"), so alternatives are not adjacent.
std::vector<Pronunciation> Synthetic(int words) {
  std::vector<Pronunciation> out;
  for (int i = 0; i < words; ++i) {
    std::string w;
    for (int k = i; k > 0 || w.empty(); k /= 26) w += char('a' + k % 26);
    out.push_back({w + "-x", {"AH", "B"}});
    if (i > 0 && (i - 1) % 3 == 0) out.push_back({out[out.size() - 2].word, {"EH", "B"}});
  }
  return out;
}

TEST(CmudictSplit, IsDeterministicByWordAndNearTheAskedProportions) {
  const std::vector<Pronunciation> prons = Synthetic(20000);
  const G2pSplit a = split_g2p(prons), b = split_g2p(prons);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.valid, b.valid);
  EXPECT_EQ(a.test, b.test);
  EXPECT_TRUE(a.dropped_words.empty());

  const int64_t n = a.words_train + a.words_valid + a.words_test;
  EXPECT_EQ(n, 20000);
  EXPECT_EQ(int64_t(a.train.size() + a.valid.size() + a.test.size()), int64_t(prons.size()));
  // Binomial standard deviation of a 5% share of 20000 words: 0.15 points; allow 1 point.
  EXPECT_NEAR(a.words_test / double(n), 0.05, 0.01);
  EXPECT_NEAR(a.words_valid / double(n), 0.05, 0.01);
  EXPECT_NEAR(a.words_train / double(n), 0.90, 0.01);

  // Each word is in the split its hash says, in exactly one split, its rows adjacent.
  const std::pair<const std::vector<SequencePair>*, int> splits[] = {
      {&a.train, 2}, {&a.valid, 1}, {&a.test, 0}};
  std::map<std::string, int> split_of;
  for (const auto& [rows, id] : splits) {
    std::string prev;
    for (const SequencePair& p : *rows) {
      const std::string w = Spelling(p);
      const uint64_t bucket = fnv1a64(w) % 1000;
      EXPECT_EQ(id, bucket < 50 ? 0 : bucket < 100 ? 1 : 2) << w;
      if (w != prev) {
        EXPECT_TRUE(split_of.emplace(w, id).second) << w << " is on two runs of rows";
        prev = w;
      }
    }
  }
  EXPECT_EQ(int64_t(split_of.size()), n);
}

TEST(CmudictSplit, RefusesBadPermillesAndEmptyEntries) {
  const std::vector<Pronunciation> ok = {{"a", {"AH"}}};
  EXPECT_RECUR_ERROR(split_g2p(ok, -1, 50), "-1", "at most 1000");
  EXPECT_RECUR_ERROR(split_g2p(ok, 600, 401), "600", "401");
  EXPECT_RECUR_ERROR(split_g2p({{"a", {"AH"}}, {"b", {}}}), "pronunciation 1", "'b'", "no phoneme");
  EXPECT_RECUR_ERROR(split_g2p({{"", {"AH"}}}), "pronunciation 0", "empty word");
}

// The dictionary Debian's pocketsphinx-en-us installs (scripts/setup.sh).
TEST(CmudictReal, ReadsTheDebianDictionaryAndSplitsItNearFiveFiveNinety) {
  if (!std::filesystem::exists(kCmudictPath))
    GTEST_SKIP() << kCmudictPath << " is missing (install pocketsphinx-en-us: scripts/setup.sh)";
  const std::vector<Pronunciation> prons = read_cmudict(kCmudictPath);
  EXPECT_GT(prons.size(), 130000u);
  const G2pSplit s = split_g2p(prons);
  const int64_t words = s.words_train + s.words_valid + s.words_test;
  EXPECT_GT(words, 120000);
  // Within 1 point of the asked shares (the binomial standard deviation is 0.06 points).
  EXPECT_NEAR(s.words_test / double(words), 0.05, 0.01);
  EXPECT_NEAR(s.words_valid / double(words), 0.05, 0.01);
  EXPECT_NEAR(s.words_train / double(words), 0.90, 0.01);
  const double rows = double(s.train.size() + s.valid.size() + s.test.size());
  EXPECT_NEAR(s.test.size() / rows, 0.05, 0.01);
  EXPECT_NEAR(s.valid.size() / rows, 0.05, 0.01);
  // Few words are dropped (those with digits), and every kept one is spelled in 29 graphemes.
  EXPECT_LT(s.dropped_words.size(), 100u);
  std::set<std::string> graphemes, phonemes;
  for (const auto* rows : {&s.train, &s.valid, &s.test})
    for (const SequencePair& p : *rows) {
      graphemes.insert(p.source.begin(), p.source.end());
      phonemes.insert(p.target.begin(), p.target.end());
    }
  EXPECT_LE(graphemes.size(), 29u);  // a-z ' - .
  EXPECT_GE(phonemes.size(), 39u);   // the ARPAbet set (more where stress marks are kept)
}

}  // namespace
}  // namespace recur
