// CoNLL-style tagged files: round trip, the exact bytes written, blank-line handling, every
// malformed line named by file:line, writer checks; and the token index built from such data.
#include "recur/data/conll.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "expect_error.h"
#include "recur/data/token_index.h"
#include "recur/io/file.h"
#include "scratch_dir.h"

namespace recur {
namespace {

using testing::WriteRaw;

class ConllTest : public testing::ScratchDirTest {};

TEST_F(ConllTest, RoundTripWritesOneTokenPerLineAndBlankLinesBetweenSequences) {
  const std::vector<TaggedSequence> seqs = {
      {{"in", "the", "beginning"}, {"Cap", "lower", "lower,period"}},
      {{"lord's", "caf\xc3\xa9"}, {"UPPER", "lower,question"}},
      {{"amen"}, {"Cap,period"}},
  };
  write_conll(Path("a.conll"), seqs);
  EXPECT_EQ(read_file_bytes(Path("a.conll")),
            "in\tCap\nthe\tlower\nbeginning\tlower,period\n\n"
            "lord's\tUPPER\ncaf\xc3\xa9\tlower,question\n\n"
            "amen\tCap,period\n\n");
  EXPECT_EQ(read_conll(Path("a.conll")), seqs);
}

TEST_F(ConllTest, AnyNumberOfBlankLinesSeparateAndTheLastNewlineMayBeMissing) {
  WriteRaw(Path("a.conll"), "\n\na\tX\nb\tY\n\n\n\nc\tZ");
  EXPECT_EQ(read_conll(Path("a.conll")),
            (std::vector<TaggedSequence>{{{"a", "b"}, {"X", "Y"}}, {{"c"}, {"Z"}}}));
}

TEST_F(ConllTest, EveryMalformedLineIsNamedByFileAndLine) {
  struct Case {
    std::string content, line, needle;
  };
  const std::vector<Case> cases = {
      {"a\tX\nno-tab-here\n", ":2: ", "no tab"},
      {"a\tX\n\tY\n", ":2: ", "empty token"},
      {"a\tX\n\nb\t\n", ":3: ", "empty tag"},
      {"a\tX\nb\tY\tZ\n", ":2: ", "more than one tab"},
      {"a\tX\ntwo words\tY\n", ":2: ", "holds whitespace"},
      {"a\tX\nb\tY Z\n", ":2: ", "holds whitespace"},
      {"a\tX\n   \n", ":2: ", "no tab"},
      {"a\tX\nb\xff\tY\n", ":2: ", "not valid UTF-8"},
      {"a\tX\r\nb\tY\r\n", ":1: ", "carriage return"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content);
    WriteRaw(Path("bad.conll"), c.content);
    EXPECT_RECUR_ERROR(read_conll(Path("bad.conll")), Path("bad.conll") + c.line, c.needle);
  }
}

TEST_F(ConllTest, FilesWithoutSequencesAreRefused) {
  WriteRaw(Path("empty.conll"), "");
  EXPECT_RECUR_ERROR(read_conll(Path("empty.conll")), "empty.conll", "no sequences");
  WriteRaw(Path("blank.conll"), "\n\n\n");
  EXPECT_RECUR_ERROR(read_conll(Path("blank.conll")), "blank.conll", "no sequences");
  EXPECT_RECUR_ERROR(read_conll(Path("missing.conll")), "missing.conll");
}

TEST_F(ConllTest, TheWriterRefusesWhatTheReaderWouldAndWritesNothing) {
  const std::string p = Path("w.conll");
  EXPECT_RECUR_ERROR(write_conll(p, {}), "no sequences");
  EXPECT_RECUR_ERROR(write_conll(p, {{{}, {}}}), "sequence 0 has no tokens");
  EXPECT_RECUR_ERROR(write_conll(p, {{{"a"}, {"X"}}, {{"a", "b"}, {"X"}}}),
                     "sequence 1 has 2 tokens but 1 tags");
  EXPECT_RECUR_ERROR(write_conll(p, {{{"a b"}, {"X"}}}), "token 'a b'", "without whitespace");
  EXPECT_RECUR_ERROR(write_conll(p, {{{"a"}, {""}}}), "tag ''");
  EXPECT_RECUR_ERROR(write_conll(p, {{{"a\xff"}, {"X"}}}), "not valid UTF-8");
  EXPECT_FALSE(std::filesystem::exists(p));
}

TEST(TokenIndex, FrequentTokensFirstRareOnesUnknownAndMetadataRoundTrip) {
  const std::vector<TaggedSequence> train = {
      {{"the", "lord", "said", "the"}, {"X", "X", "X", "X"}},
      {{"lord", "the", "once"}, {"X", "X", "X"}},
  };
  const TokenIndex x = TokenIndex::build(train, 100, 2, "train");
  ASSERT_EQ(x.size(), 3);  // <unk>, the (3), lord (2); said and once are seen once
  EXPECT_EQ(x.token(0), "<unk>");
  EXPECT_EQ(x.token(1), "the");
  EXPECT_EQ(x.token(2), "lord");
  EXPECT_EQ(x.encode({"lord", "once", "never", "the"}), (std::vector<int64_t>{2, 0, 0, 1}));
  EXPECT_EQ(TokenIndex::build(train, 1, 1, "train").size(), 2);  // the cap keeps "the"
  const TokenIndex y = TokenIndex::from_metadata(x.to_metadata(), "m");
  EXPECT_EQ(y.encode({"lord", "said", "the"}), x.encode({"lord", "said", "the"}));
  EXPECT_RECUR_ERROR(TokenIndex::build(train, 100, 5, "train.conll"), "train.conll", "no token");
  EXPECT_RECUR_ERROR(TokenIndex::from_metadata({{"words", "[\"a\"]"}}, "m.safetensors"),
                     "m.safetensors", "<unk>");
  EXPECT_RECUR_ERROR(TokenIndex::from_metadata({}, "m.safetensors"), "m.safetensors", "words");
}

}  // namespace
}  // namespace recur
