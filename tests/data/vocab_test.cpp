// Vocabularies: char and word tokenisation, <unk>, UTF-8 checks, the metadata round trip, the split.
#include <gtest/gtest.h>

#include "expect_error.h"
#include "recur/data/vocab.h"

namespace recur {
namespace {

TEST(Vocab, CharsAreTheDistinctBytesInOrder) {
  const Vocab v = Vocab::build("banana\n", TokenMode::chars, 0, "t");
  ASSERT_EQ(v.size(), 4);  // \n a b n
  EXPECT_EQ(v.token(0), "\n");
  EXPECT_EQ(v.token(1), "a");
  EXPECT_EQ(v.encode("nab", "t"), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(v.decode({2, 1, 3}), "ban");
  EXPECT_RECUR_ERROR(v.encode("bx", "eval.txt"), "eval.txt", "offset 1");
}

TEST(Vocab, WordsSplitPunctuationKeepNewlinesAndCapWithUnknown) {
  const std::string text = "In the beginning, the word.\nThe end; the end.\n";
  EXPECT_EQ(Vocab::split_words("don't stop,now\n", "t"),
            (std::vector<std::string>{"don't", "stop", ",", "now", "\n"}));
  const Vocab v = Vocab::build(text, TokenMode::words, 3, "t");
  ASSERT_EQ(v.size(), 4);  // <unk> + the 3 most frequent: the (3), "." (2), "\n" (2) ...
  EXPECT_EQ(v.token(0), Vocab::kUnknown);
  EXPECT_EQ(v.token(1), "the");
  EXPECT_EQ(v.unknown_id(), 0);
  const auto ids = v.encode("the zebra.", "t");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(ids[1], 0);  // unknown
  EXPECT_EQ(v.decode({1, 0}), "the <unk>");
  // Decoding piece by piece (a streamed reply) gives decode()'s text, newlines included.
  const std::vector<int64_t> reply = v.encode("the.\nthe the\n\n. zebra", "t");
  std::string pieces;
  for (int64_t id : reply) pieces += v.decode_next(pieces, id);
  EXPECT_EQ(pieces, v.decode(reply));
  EXPECT_EQ(pieces, "the .\nthe the\n\n. <unk>");
}

TEST(Vocab, WordModeRejectsInvalidUtf8AndAcceptsValid) {
  EXPECT_RECUR_ERROR(Vocab::build("caf\xe9 au lait", TokenMode::words, 10, "latin1.txt"),
                     "latin1.txt", "offset 3", "UTF-8");
  const Vocab v = Vocab::build("caf\xc3\xa9 au lait", TokenMode::words, 10, "utf8.txt");
  EXPECT_EQ(v.encode("caf\xc3\xa9", "t"), (std::vector<int64_t>{v.encode("caf\xc3\xa9", "t")[0]}));
  EXPECT_NE(v.encode("caf\xc3\xa9", "t")[0], v.unknown_id());
}

TEST(Vocab, MetadataRoundTrip) {
  for (TokenMode mode : {TokenMode::chars, TokenMode::words}) {
    // Char mode keeps any byte (even ones that are not UTF-8 alone); word mode needs UTF-8.
    const std::string text = mode == TokenMode::chars ? "Alpha beta\n\x01\xff" : "Alpha beta, gamma\n";
    const Vocab v = Vocab::build(text, mode, 50, "t");
    const Vocab w = Vocab::from_metadata(v.to_metadata(), "m");
    ASSERT_EQ(w.size(), v.size());
    for (int64_t i = 0; i < v.size(); ++i) EXPECT_EQ(w.token(i), v.token(i));
    EXPECT_EQ(w.mode(), v.mode());
  }
  EXPECT_RECUR_ERROR(Vocab::from_metadata({}, "model.safetensors"), "model.safetensors", "vocab");
  EXPECT_RECUR_ERROR(Vocab::from_metadata({{"vocab_mode", "char"}, {"vocab", "[1, 1]"}}, "m.st"),
                     "m.st", "repeats");
}

TEST(Vocab, TailSplitCutsAtWhitespace) {
  const TextSplit s = split_text_tail("aaaa bbbb cccc dddd", 0.3);
  EXPECT_EQ(s.train + s.validation, "aaaa bbbb cccc dddd");
  EXPECT_EQ(s.train, "aaaa bbbb cccc");
  EXPECT_EQ(s.validation, " dddd");
  EXPECT_RECUR_ERROR(split_text_tail("abc", 1.5), "validation fraction");
}

}  // namespace
}  // namespace recur
