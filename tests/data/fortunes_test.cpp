// Fortune files and the data sets built from them: parsing and terminal cleaning, FNV-1a, the
// length filter, deduplication (within and across classes), the cap, a split that is disjoint and
// independent of file order, skipped non-UTF-8 files, and errors naming the missing package.
#include "recur/data/fortunes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "expect_error.h"
#include "scratch_dir.h"

namespace recur {
namespace {

namespace fs = std::filesystem;
using testing::WriteRaw;

class FortunesTest : public testing::ScratchDirTest {
 protected:
  // Writes a fortune file under the scratch dir, making its directory.
  void Fortunes(const std::string& rel, const std::vector<std::string>& entries) {
    fs::create_directories(fs::path(Path(rel)).parent_path());
    std::string bytes;
    for (const std::string& e : entries) bytes += e + "\n%\n";
    WriteRaw(Path(rel), bytes);
  }
};

std::vector<std::string> Texts(const std::vector<LabeledText>& rows) {
  std::vector<std::string> out;
  for (const LabeledText& r : rows) out.push_back(r.text);
  return out;
}

TEST_F(FortunesTest, ReadsEntriesTrimmedAndCleanedOfTerminalCodes) {
  WriteRaw(Path("f"),
           "%\n"                               // a leading separator: empty entry, dropped
           "  First entry,\n\ttwo lines.  \n"  // trimmed at both ends, inner tab kept
           "%\n"
           "\n \n"                                         // blank entry, dropped
           "% \n"                                          // separator with trailing whitespace
           "It's a *__\b\bUN*lucky week, said Ren'\be.\n"  // overprinting: underline, accent
           "%\r\n"                                         // CRLF separator
           "\x1b[32m\xe3\x80\x8a\xe8\x90\xbd\xe8\x8a\xb1\xe3\x80\x8b\x1b[m\r\n"  // ANSI colour, CR
           "IRC \x02"
           "bold\x02 and a bell\x07.\n"
           "%DCL-MEM-BAD is text, not a separator\n");
  EXPECT_EQ(read_fortune_file(Path("f")),
            (std::vector<std::string>{
                "First entry,\n\ttwo lines.", "It's a *UN*lucky week, said Rene.",
                "\xe3\x80\x8a\xe8\x90\xbd\xe8\x8a\xb1\xe3\x80\x8b\nIRC bold and a bell.\n"
                "%DCL-MEM-BAD is text, not a separator"}));
}

TEST_F(FortunesTest, RefusesInvalidUtf8NamingFileAndLine) {
  WriteRaw(Path("latin1"), "ok\n%\ncaf\xe9\n%\n");
  EXPECT_RECUR_ERROR(read_fortune_file(Path("latin1")), Path("latin1"), "byte 0xe9 at line 3",
                     "UTF-8");
  EXPECT_RECUR_ERROR(read_fortune_file(Path("missing")), "missing");
}

TEST(Fnv1a64, MatchesPublishedValuesAndSplitsByTheRemainder) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  EXPECT_EQ(split_of(""), Split::train);        // % 10 == 7
  EXPECT_EQ(split_of("a"), Split::train);       // 6
  EXPECT_EQ(split_of("foobar"), Split::valid);  // 8
  // On many texts the split is close to 80 / 10 / 10.
  int counts[3] = {};
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[int(split_of("fortune number " + std::to_string(i)))];
  EXPECT_NEAR(counts[0] / double(n), 0.8, 0.015);
  EXPECT_NEAR(counts[1] / double(n), 0.1, 0.01);
  EXPECT_NEAR(counts[2] / double(n), 0.1, 0.01);
}

TEST_F(FortunesTest, FiltersDeduplicatesAndDropsTextsSharedByTwoClasses) {
  Fortunes("aa/one", {"short", "a text of the right length", "shared between the two classes",
                      std::string(50, 'x')});
  Fortunes("aa/two", {"a text of the right length", "another text for class aa"});
  Fortunes("aa/two.dat", {"companion files are not read"});
  Fortunes("aa/two.u8", {"companion files are not read"});
  Fortunes("aa/sub/deeper", {"subdirectories are not read"});
  Fortunes("aa/skipme", {"excluded files are not read"});
  Fortunes("bb", {"shared between the two classes", "the only text of class bb"});
  const std::vector<FortuneClass> classes = {{"aa", "fortunes-aa", {"aa"}, {"aa/skipme"}},
                                             {"bb", "fortunes-bb", {"bb"}, {}}};
  const FortuneFilter filter{.min_chars = 10, .max_chars = 40, .max_per_class = 100};
  const FortuneDataset ds = build_fortune_dataset(dir_, classes, filter);

  std::map<std::string, std::string> label_of;
  for (const auto* split : {&ds.train, &ds.valid, &ds.test})
    for (const LabeledText& r : *split) EXPECT_TRUE(label_of.emplace(r.text, r.label).second);
  EXPECT_EQ(label_of, (std::map<std::string, std::string>{{"a text of the right length", "aa"},
                                                          {"another text for class aa", "aa"},
                                                          {"the only text of class bb", "bb"}}));
  ASSERT_EQ(ds.stats.size(), 2u);
  const FortuneClassStats& aa = ds.stats[0];
  EXPECT_EQ(aa.label, "aa");
  EXPECT_EQ(aa.files, 2);
  EXPECT_EQ(aa.entries, 6);
  EXPECT_EQ(aa.in_range, 4);  // "short" and the 50 x's are out
  EXPECT_EQ(aa.shared, 1);
  EXPECT_EQ(aa.unique, 2);
  EXPECT_EQ(aa.train + aa.valid + aa.test, 2);
  EXPECT_EQ(ds.stats[1].shared, 1);
  EXPECT_EQ(ds.stats[1].unique, 1);
  EXPECT_TRUE(ds.skipped.empty());
}

TEST_F(FortunesTest, CapKeepsTheSmallestHashesAndTheSplitIsDisjointAndStable) {
  std::vector<std::string> texts;
  for (int i = 0; i < 300; ++i) texts.push_back("fortune text number " + std::to_string(i));
  // The same texts in one file, and reversed across two files: the output must not change.
  Fortunes("one/all", texts);
  std::vector<std::string> reversed(texts.rbegin(), texts.rend());
  Fortunes("two/b", std::vector<std::string>(reversed.begin(), reversed.begin() + 100));
  Fortunes("two/a", std::vector<std::string>(reversed.begin() + 100, reversed.end()));
  Fortunes("other", {"a text of another class"});
  const FortuneFilter filter{.min_chars = 5, .max_chars = 100, .max_per_class = 120};
  const FortuneDataset one =
      build_fortune_dataset(dir_, {{"t", "p", {"one"}, {}}, {"o", "p", {"other"}, {}}}, filter);
  const FortuneDataset two =
      build_fortune_dataset(dir_, {{"t", "p", {"two"}, {}}, {"o", "p", {"other"}, {}}}, filter);
  EXPECT_EQ(one.train, two.train);
  EXPECT_EQ(one.valid, two.valid);
  EXPECT_EQ(one.test, two.test);

  // The 120 kept texts of class t are those with the smallest hashes.
  std::vector<std::string> expected = texts;
  std::sort(expected.begin(), expected.end(),
            [](const std::string& a, const std::string& b) { return fnv1a64(a) < fnv1a64(b); });
  expected.resize(120);
  std::set<std::string> kept;
  const std::pair<const std::vector<LabeledText>*, Split> splits[] = {
      {&one.train, Split::train}, {&one.valid, Split::valid}, {&one.test, Split::test}};
  for (const auto& [rows, split] : splits) {
    uint64_t previous = 0;
    for (const LabeledText& r : *rows) {
      EXPECT_EQ(split_of(r.text), split) << r.text;
      EXPECT_GE(fnv1a64(r.text), previous);  // sorted by hash
      previous = fnv1a64(r.text);
      if (r.label == "t") {
        EXPECT_TRUE(kept.insert(r.text).second) << "in two splits: " << r.text;
      }
    }
  }
  EXPECT_EQ(kept, std::set<std::string>(expected.begin(), expected.end()));
  EXPECT_EQ(one.stats[0].unique, 300);
  EXPECT_EQ(one.stats[0].train + one.stats[0].valid + one.stats[0].test, 120);
  EXPECT_EQ(int64_t(one.train.size()), one.stats[0].train + one.stats[1].train);
}

TEST_F(FortunesTest, SkipsAndReportsAFileThatIsNotUtf8) {
  Fortunes("aa/good", {"a good UTF-8 entry, long enough"});
  WriteRaw(Path("aa/latin1"), "une entr\xe9\x65 en Latin-1\n%\n");
  const FortuneDataset ds = build_fortune_dataset(dir_, {{"aa", "p", {"aa"}, {}}}, {});
  ASSERT_EQ(ds.skipped.size(), 1u);
  EXPECT_NE(ds.skipped[0].find("latin1: byte 0xe9 at line 1 is not valid UTF-8"), std::string::npos)
      << ds.skipped[0];
  EXPECT_EQ(ds.stats[0].files, 1);
  EXPECT_EQ(Texts(ds.train).size() + Texts(ds.valid).size() + Texts(ds.test).size(), 1u);
}

TEST_F(FortunesTest, ErrorsNameTheMissingPackageTheEmptyClassAndTheBadFilter) {
  Fortunes("aa", {"a text of class aa"});
  EXPECT_RECUR_ERROR(
      build_fortune_dataset(dir_, {{"aa", "p", {"aa"}, {}}, {"de", "fortunes-de", {"de"}, {}}}, {}),
      Path("de"), "install fortunes-de (scripts/setup.sh)");
  EXPECT_RECUR_ERROR(build_fortune_dataset(Path("nowhere"), {{"aa", "p", {"aa"}, {}}}, {}),
                     "nowhere", "not a directory");
  EXPECT_RECUR_ERROR(
      build_fortune_dataset(dir_, {{"aa", "p", {"aa"}, {}}}, {.min_chars = 100, .max_chars = 400}),
      "class 'aa' has no text of 100..400");
  EXPECT_RECUR_ERROR(
      build_fortune_dataset(dir_, {{"aa", "p", {"aa"}, {}}}, {.min_chars = 50, .max_chars = 10}),
      "50..10");
  EXPECT_RECUR_ERROR(build_fortune_dataset(dir_, {{"aa", "p", {"aa"}, {}}}, {.max_per_class = 0}),
                     "at most 0");
  EXPECT_RECUR_ERROR(
      build_fortune_dataset(dir_, {{"aa", "p", {"aa"}, {}}, {"aa", "p", {"aa"}, {}}}, {}),
      "two classes are labeled 'aa'");
}

TEST(FortuneClasses, LanguagesAndTopicsAreTheDocumentedLists) {
  std::vector<std::string> labels;
  for (const FortuneClass& c : fortune_language_classes()) labels.push_back(c.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"bg", "br", "cs", "de", "en", "eo", "es", "ga", "it",
                                              "pl", "ru", "zh"}));
  labels.clear();
  for (const FortuneClass& c : fortune_topic_classes()) labels.push_back(c.label);
  EXPECT_EQ(labels,
            (std::vector<std::string>{"computers", "drugs", "education", "food", "law", "love",
                                      "politics", "science", "sports", "startrek"}));
}

}  // namespace
}  // namespace recur
