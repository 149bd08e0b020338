// Sequence pair files (source<TAB>target, tokens separated by single spaces): round trip, the exact
// bytes written, skipped blank lines, every malformed line named by file:line, writer checks.
#include "recur/data/pairs.h"

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

class PairsTest : public testing::ScratchDirTest {};

TEST_F(PairsTest, RoundTripKeepsTokensAndWritesOneLinePerPair) {
  const std::vector<SequencePair> pairs = {
      {{"a", "b", "o", "u", "t"}, {"AH", "B", "AW", "T"}},
      {{"'", "e", "m"}, {"AH", "M"}},
      {{"x"}, {"EH", "K", "S"}},
      {{"caf\xc3\xa9", "au", "lait"}, {"k", "a", "f", "e"}},  // UTF-8 and multi-byte tokens
      {{"a\\n"}, {"back\\slash"}},                            // no escapes: kept as is
  };
  write_sequence_pairs(Path("p.tsv"), pairs);
  EXPECT_EQ(read_sequence_pairs(Path("p.tsv")), pairs);
  EXPECT_EQ(read_file_bytes(Path("p.tsv")),
            "a b o u t\tAH B AW T\n"
            "' e m\tAH M\n"
            "x\tEH K S\n"
            "caf\xc3\xa9 au lait\tk a f e\n"
            "a\\n\tback\\slash\n");
}

TEST_F(PairsTest, SkipsEmptyLinesAndAcceptsAMissingFinalNewline) {
  WriteRaw(Path("p.tsv"), "\n\na b\tA B\n\n\nc\tK");
  EXPECT_EQ(read_sequence_pairs(Path("p.tsv")),
            (std::vector<SequencePair>{{{"a", "b"}, {"A", "B"}}, {{"c"}, {"K"}}}));
}

TEST_F(PairsTest, EveryMalformedLineIsNamedByFileAndLine) {
  struct Case {
    std::string content, needle;
  };
  // Line 2 is the bad one in each file.
  const std::vector<Case> cases = {
      {"a\tA\nno tab here\n", "no tab"},
      {"a\tA\n   \n", "no tab"},
      {"a\tA\na\tA\tB\n", "more than one tab"},
      {"a\tA\n\tA B\n", "empty source side"},
      {"a\tA\na b\t\n", "empty target side"},
      {"a\tA\na  b\tA B\n", "empty token at column 3 of the source side"},
      {"a\tA\n a b\tA B\n", "empty token at column 1 of the source side"},
      {"a\tA\na b \tA B\n", "empty token at column 5 of the source side"},
      {"a\tA\na b\tA  B\n", "empty token at column 7 of the target side"},
      {"a\tA\na b\t A B\n", "empty token at column 5 of the target side"},
      {"a\tA\na b\tA B \n", "empty token at column 9 of the target side"},
      {"a\tA\na b\tA B\r\n", "carriage return at column 8"},
      {"a\tA\ncaf\xe9\tK\n", "byte 0xe9 at column 4 is not valid UTF-8"},
      {"a\tA\nover\xc0\xaflong\tK\n", "not valid UTF-8"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content);
    WriteRaw(Path("bad.tsv"), c.content);
    EXPECT_RECUR_ERROR(read_sequence_pairs(Path("bad.tsv")), Path("bad.tsv") + ":2: ", c.needle);
  }
  // A CRLF file is refused on its first line.
  WriteRaw(Path("crlf.tsv"), "a\tA\r\nb\tB\r\n");
  EXPECT_RECUR_ERROR(read_sequence_pairs(Path("crlf.tsv")),
                     Path("crlf.tsv") + ":1: ", "carriage return");
}

TEST_F(PairsTest, FilesWithoutPairsAreRefused) {
  WriteRaw(Path("empty.tsv"), "");
  EXPECT_RECUR_ERROR(read_sequence_pairs(Path("empty.tsv")), "empty.tsv", "no pairs");
  WriteRaw(Path("blank.tsv"), "\n\n\n");
  EXPECT_RECUR_ERROR(read_sequence_pairs(Path("blank.tsv")), "blank.tsv", "no pairs");
  EXPECT_RECUR_ERROR(read_sequence_pairs(Path("missing.tsv")), "missing.tsv");
}

TEST_F(PairsTest, WriterRefusesRowsTheReaderWouldRejectAndWritesNothing) {
  const std::string path = Path("out.tsv");
  const SequencePair ok = {{"a"}, {"A"}};
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {}), "out.tsv", "no pairs");
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {ok, {{}, {"A"}}}), "out.tsv", "row 1",
                     "empty source side");
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {{{"a"}, {}}}), "row 0", "empty target side");
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {ok, ok, {{"a", ""}, {"A"}}}), "row 2",
                     "an empty token", "source token 1");
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {{{"a b"}, {"A"}}}), "row 0", "a space");
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {{{"a"}, {"A\tB"}}}), "row 0", "a tab",
                     "target token 0");
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {{{"a\n"}, {"A"}}}), "row 0", "a newline");
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {{{"a"}, {"A", "B\r"}}}), "row 0",
                     "a carriage return", "target token 1");
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {{{"caf\xe9"}, {"A"}}}), "row 0", "UTF-8");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(PairsTest, ARefusedWriteLeavesTheOldFileAlone) {
  const std::string path = Path("out.tsv");
  write_sequence_pairs(path, {{{"a"}, {"A"}}});
  EXPECT_RECUR_ERROR(write_sequence_pairs(path, {{{"b"}, {"B"}}, {{"c c"}, {"C"}}}), "row 1");
  EXPECT_EQ(read_file_bytes(path), "a\tA\n");
}

}  // namespace
}  // namespace recur
