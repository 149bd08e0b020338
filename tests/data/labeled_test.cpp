// Labeled TSV files: round trip with escapes, the exact bytes written, skipped blank lines, every
// malformed line named by file:line, writer checks, the UTF-8 helpers, and the text encoder's
// truncation.
#include "recur/data/labeled.h"
#include "recur/data/classification.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "expect_error.h"
#include "recur/io/file.h"
#include "scratch_dir.h"

namespace recur {
namespace {

using testing::WriteRaw;

class LabeledTest : public testing::ScratchDirTest {};

TEST_F(LabeledTest, RoundTripKeepsNewlinesTabsBackslashesAndUtf8) {
  const std::vector<LabeledText> rows = {
      {"en", "He who laughs last\n\t-- proverb"},
      {"de", "Backslash \\ and a literal \\n, not a newline"},
      {"zh", "\xe6\x98\xa5\xe7\x9c\xa0\xe4\xb8\x8d\xe8\xa7\x89\xe6\x99\x93"},  // 春眠不觉晓
      {"x-y.z", "carriage\r\nreturn, trailing space "},
      {"en", "\\\\n\\t\\"},
  };
  write_labeled_tsv(Path("a.tsv"), rows);
  EXPECT_EQ(read_labeled_tsv(Path("a.tsv")), rows);
  // The format is one line per example, with exactly these escapes.
  EXPECT_EQ(read_file_bytes(Path("a.tsv")),
            "en\tHe who laughs last\\n\\t-- proverb\n"
            "de\tBackslash \\\\ and a literal \\\\n, not a newline\n"
            "zh\t\xe6\x98\xa5\xe7\x9c\xa0\xe4\xb8\x8d\xe8\xa7\x89\xe6\x99\x93\n"
            "x-y.z\tcarriage\\r\\nreturn, trailing space \n"
            "en\t\\\\\\\\n\\\\t\\\\\n");
}

TEST_F(LabeledTest, SkipsEmptyLinesAndAcceptsAMissingFinalNewline) {
  WriteRaw(Path("a.tsv"), "\n\nen\tone\n\n\nde\tzwei");
  const std::vector<LabeledText> rows = read_labeled_tsv(Path("a.tsv"));
  EXPECT_EQ(rows, (std::vector<LabeledText>{{"en", "one"}, {"de", "zwei"}}));
}

TEST_F(LabeledTest, EveryMalformedLineIsNamedByFileAndLine) {
  struct Case {
    std::string content, needle;
  };
  // Line 2 is the bad one in each file.
  const std::vector<Case> cases = {
      {"en\tok\nno tab here\n", "no tab"},
      {"en\tok\n\ttext without label\n", "empty label"},
      {"en\tok\nen\t\n", "empty text"},
      {"en\tok\nen\t   \\t \n", "empty text"},
      {"en\tok\nen\tcaf\xe9 au lait\n", "not valid UTF-8"},
      {"en\tok\nen\tover\xc0\xaflong\n", "not valid UTF-8"},
      {"en\tok\nen\ta \\q escape\n", "bad escape '\\q' at column 6"},
      {"en\tok\nen\tlone backslash\\\n", "lone backslash"},
      {"en\tok\n   \n", "only whitespace"},
      {"en\tok\nen\tone\ttwo\n", "more than one tab"},
      {"en\tok\r\nen\tok\r\n", "carriage return"},
      {"en\tok\nen \tpadded label\n", "whitespace"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content);
    WriteRaw(Path("bad.tsv"), c.content);
    // The CRLF file is refused on its first line already.
    const std::string line = c.needle == "carriage return" ? ":1: " : ":2: ";
    EXPECT_RECUR_ERROR(read_labeled_tsv(Path("bad.tsv")), Path("bad.tsv") + line, c.needle);
  }
}

TEST_F(LabeledTest, FilesWithoutExamplesAreRefused) {
  WriteRaw(Path("empty.tsv"), "");
  EXPECT_RECUR_ERROR(read_labeled_tsv(Path("empty.tsv")), "empty.tsv", "no examples");
  WriteRaw(Path("blank.tsv"), "\n\n\n");
  EXPECT_RECUR_ERROR(read_labeled_tsv(Path("blank.tsv")), "blank.tsv", "no examples");
  EXPECT_RECUR_ERROR(read_labeled_tsv(Path("missing.tsv")), "missing.tsv");
}

TEST_F(LabeledTest, WriterRefusesRowsTheReaderWouldRejectAndWritesNothing) {
  const std::string path = Path("out.tsv");
  EXPECT_RECUR_ERROR(write_labeled_tsv(path, {}), "out.tsv", "no rows");
  EXPECT_RECUR_ERROR(write_labeled_tsv(path, {{"en", "ok"}, {"a\tb", "text"}}), "out.tsv", "row 1",
                     "label");
  EXPECT_RECUR_ERROR(write_labeled_tsv(path, {{"a\nb", "text"}}), "row 0", "label");
  EXPECT_RECUR_ERROR(write_labeled_tsv(path, {{"", "text"}}), "row 0", "label");
  EXPECT_RECUR_ERROR(write_labeled_tsv(path, {{" en", "text"}}), "row 0", "whitespace");
  EXPECT_RECUR_ERROR(write_labeled_tsv(path, {{"en", " \n "}}), "row 0", "empty text");
  EXPECT_RECUR_ERROR(write_labeled_tsv(path, {{"en", "caf\xe9"}}), "row 0", "UTF-8");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Utf8, FindsTheFirstInvalidByteAndCountsCodePoints) {
  EXPECT_EQ(find_invalid_utf8("plain ascii"), std::string_view::npos);
  EXPECT_EQ(find_invalid_utf8("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80"), std::string_view::npos);
  EXPECT_EQ(find_invalid_utf8("ab\xe9"), 2u);            // Latin-1 e-acute
  EXPECT_EQ(find_invalid_utf8("a\xc0\x80"), 1u);         // overlong NUL
  EXPECT_EQ(find_invalid_utf8("a\xed\xa0\x80"), 1u);     // surrogate U+D800
  EXPECT_EQ(find_invalid_utf8("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ok\xe6\x98"), 2u);        // truncated sequence
  EXPECT_EQ(utf8_code_points("\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80"), 5);
  EXPECT_EQ(utf8_code_points(""), 0);
}

}  // namespace
}  // namespace recur

namespace recur {
namespace {

// --max-len keeps a text's first tokens, or with keep_last (Keras's truncating='pre') its last;
// the choice travels in the model's metadata, and files without it keep the first.
TEST(TextEncoder, KeepsTheFirstOrTheLastTokens) {
  TextEncoder enc = TextEncoder::bytes();
  EXPECT_EQ(enc.encode("abcdef", 4, "t"), (std::vector<int64_t>{'a', 'b', 'c', 'd'}));
  enc.keep_last = true;
  EXPECT_EQ(enc.encode("abcdef", 4, "t"), (std::vector<int64_t>{'c', 'd', 'e', 'f'}));
  EXPECT_EQ(enc.encode("ab", 4, "t"), (std::vector<int64_t>{'a', 'b'}));
  EXPECT_TRUE(TextEncoder::from_metadata(enc.to_metadata(), "m").keep_last);
  auto meta = enc.to_metadata();
  meta.erase("keep");
  EXPECT_FALSE(TextEncoder::from_metadata(meta, "m").keep_last);
  meta["keep"] = "middle";
  EXPECT_RECUR_ERROR(TextEncoder::from_metadata(meta, "m.safetensors"), "m.safetensors", "'keep'",
                     "first or last");
}

}  // namespace
}  // namespace recur
