// Punctuation restoration data: hand-written verses -> exact tokens and tags, restoration back to
// text, the tag names, the `bible` layout reader (and its file:line errors), and the hash split.
#include "recur/data/punctuation.h"

#include <gtest/gtest.h>

#include "expect_error.h"
#include "recur/data/fortunes.h"

namespace recur {
namespace {

std::vector<RestorationTag> parse_all(const std::vector<std::string>& names) {
  std::vector<RestorationTag> out(names.size());
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_TRUE(parse_restoration_tag(names[i], &out[i])) << names[i];
  return out;
}

struct Verse {
  std::string text;
  std::vector<std::string> tokens, tags;
  std::string restored;  // restore_text of the result (the text without brackets and dashes)
};

TEST(Punctuation, HandWrittenVersesGiveExactTokensAndTags) {
  const std::vector<Verse> verses = {
      {"In the beginning God created the heaven and the earth.",
       {"in", "the", "beginning", "god", "created", "the", "heaven", "and", "the", "earth"},
       {"Cap", "lower", "lower", "Cap", "lower", "lower", "lower", "lower", "lower",
        "lower,period"},
       "In the beginning God created the heaven and the earth."},
      // UPPER (LORD), question mark mid-verse followed by a lower-case word, colon at the end.
      {"And the LORD said unto Moses, Wherefore criest thou unto me? speak unto the children of "
       "Israel, that they go forward:",
       {"and",      "the",  "lord",   "said", "unto",  "moses", "wherefore",
        "criest",   "thou", "unto",   "me",   "speak", "unto",  "the",
        "children", "of",   "israel", "that", "they",  "go",    "forward"},
       {"Cap",   "lower", "UPPER",     "lower",          "lower", "Cap,comma", "Cap",
        "lower", "lower", "lower",     "lower,question", "lower", "lower",     "lower",
        "lower", "lower", "Cap,comma", "lower",          "lower", "lower",     "lower,colon"},
       "And the LORD said unto Moses, Wherefore criest thou unto me? speak unto the children of "
       "Israel, that they go forward:"},
      // Brackets are dropped; the comma inside ",)" still counts.
      {"And Pathrusim, and Casluhim, (out of whom came Philistim,) and Caphtorim.",
       {"and", "pathrusim", "and", "casluhim", "out", "of", "whom", "came", "philistim", "and",
        "caphtorim"},
       {"Cap", "Cap,comma", "lower", "Cap,comma", "lower", "lower", "lower", "lower", "Cap,comma",
        "lower", "Cap,period"},
       "And Pathrusim, and Casluhim, out of whom came Philistim, and Caphtorim."},
      // A dash before a semicolon; the single-letter I is Cap.
      {"Yet now, if thou wilt forgive their sin--; and if not, blot me, I pray thee.",
       {"yet", "now", "if", "thou", "wilt", "forgive", "their", "sin", "and", "if", "not", "blot",
        "me", "i", "pray", "thee"},
       {"Cap", "lower,comma", "lower", "lower", "lower", "lower", "lower", "lower,semicolon",
        "lower", "lower", "lower,comma", "lower", "lower,comma", "Cap", "lower", "lower,period"},
       "Yet now, if thou wilt forgive their sin; and if not, blot me, I pray thee."},
      // Possessives (singular, UPPER, plural), a hyphenated word, a spaced dash, an exclamation.
      {"Am I my brother's keeper? O LORD's servants; the Levites' cities -- to God-ward!",
       {"am", "i", "my", "brother's", "keeper", "o", "lord's", "servants", "the", "levites'",
        "cities", "to", "god-ward"},
       {"Cap", "Cap", "lower", "lower", "lower,question", "Cap", "UPPER", "lower,semicolon",
        "lower", "Cap", "lower", "lower", "Cap,exclamation"},
       "Am I my brother's keeper? O LORD's servants; the Levites' cities to God-ward!"},
      // Typographic quotes, dashes and the ellipsis; a quote is not a possessive.
      {"\u201cHello,\u201d she said\u2026 \u2018tis well\u2014isn\u2019t it? 'Go' ",
       {"hello", "she", "said", "tis", "well", "isn't", "it", "go"},
       {"Cap,comma", "lower", "lower,period", "lower", "lower", "lower", "lower,question", "Cap"},
       "Hello, she said. tis well isn't it? Go"},
  };
  for (const Verse& v : verses) {
    SCOPED_TRACE(v.text);
    const TaggedSequence q = punctuation_sequence(v.text);
    EXPECT_EQ(q.tokens, v.tokens);
    EXPECT_EQ(q.tags, v.tags);
    EXPECT_EQ(plain_words(v.text), v.tokens);
    EXPECT_EQ(restore_text(q.tokens, parse_all(q.tags)), v.restored);
    // The restored text is a fixed point.
    EXPECT_EQ(punctuation_sequence(v.restored), q);
  }
  EXPECT_TRUE(punctuation_sequence("  ( -- ) ' ").tokens.empty());
}

TEST(Punctuation, TagNamesRoundTripAndOthersAreRefused) {
  int n = 0;
  for (int c = 0; c < kNumCasings; ++c)
    for (int p = 0; p < kNumPuncts; ++p) {
      const RestorationTag t{Casing(c), Punct(p)};
      RestorationTag back;
      ASSERT_TRUE(parse_restoration_tag(restoration_tag_name(t), &back)) << restoration_tag_name(t);
      EXPECT_EQ(back, t);
      ++n;
    }
  EXPECT_EQ(n, 21);
  EXPECT_EQ(restoration_tag_name({Casing::upper, Punct::semicolon}), "UPPER,semicolon");
  EXPECT_EQ(restoration_tag_name({Casing::lower, Punct::none}), "lower");
  RestorationTag t;
  for (const char* bad : {"", "cap", "Lower", "lower,none", "Cap,", "Cap,comma,period", "NOUN"})
    EXPECT_FALSE(parse_restoration_tag(bad, &t)) << bad;
}

TEST(Punctuation, BibleLayoutGivesVersesWithoutReferences) {
  const std::string text =
      "\nGenesis 1\n\n"
      "  1 In the beginning God created the heaven and the earth.\n"
      "  2 And the earth was without form, and void; and darkness was upon the face of\n"
      "the deep. And the Spirit of God moved upon the face of the waters.\n"
      "\nSong of Solomon 2\n\n"
      "  10 I am the rose of Sharon, and the lily of the valleys.\n";
  EXPECT_EQ(bible_verses(text, "kjv"),
            (std::vector<std::string>{
                "In the beginning God created the heaven and the earth.",
                "And the earth was without form, and void; and darkness was upon the face of the "
                "deep. And the Spirit of God moved upon the face of the waters.",
                "I am the rose of Sharon, and the lily of the valleys."}));
  EXPECT_RECUR_ERROR(bible_verses("Plain text, first line.\nSecond line.\n", "plain.txt"),
                     "plain.txt:2:", "outside any verse", "--format lines");
  EXPECT_RECUR_ERROR(bible_verses("\nGenesis 1\n\n  In the beginning\n", "x.txt"),
                     "x.txt:4:", "not a verse");
  EXPECT_RECUR_ERROR(bible_verses("\n\nGenesis 1\n\n", "x.txt"), "x.txt", "no verses");
}

TEST(Punctuation, DatasetSplitsByTheHashOfTheRestoredTextAndCapsLength) {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "Verse number " + std::to_string(i) + " says, Go forth.\n\n";
  text += "one two three four five six seven eight nine ten eleven\n";
  const PunctuationDataset ds = build_punctuation_dataset(text, TextLayout::lines, 10, "t.txt");
  EXPECT_EQ(ds.units, 201);
  EXPECT_EQ(ds.too_long, 1);
  EXPECT_EQ(int64_t(ds.train.size() + ds.valid.size() + ds.test.size()), 200);
  EXPECT_GT(ds.train.size(), ds.valid.size() + ds.test.size());
  EXPECT_GT(ds.valid.size(), 0u);
  EXPECT_GT(ds.test.size(), 0u);
  auto check = [](const std::vector<TaggedSequence>& seqs, Split want) {
    for (const TaggedSequence& q : seqs)
      EXPECT_EQ(split_of(restore_text(q.tokens, parse_all(q.tags))), want);
  };
  check(ds.train, Split::train);
  check(ds.valid, Split::valid);
  check(ds.test, Split::test);
  // The order of the text is kept within a split.
  EXPECT_EQ(
      ds.train.front().tokens[2], std::to_string([&] {
        for (int i = 0; i < 200; ++i)
          if (split_of("Verse number " + std::to_string(i) + " says, Go forth.") == Split::train)
            return i;
        return -1;
      }()));
  // Sentences: running text cut after . ? ! whatever the line breaks.
  const PunctuationDataset s = build_punctuation_dataset("Is it so? It is\nso. And then\n!\n",
                                                         TextLayout::sentences, 0, "s.txt");
  EXPECT_EQ(s.units, 3);
  EXPECT_RECUR_ERROR(parse_text_layout("verses"), "unknown text layout 'verses'");
}

}  // namespace
}  // namespace recur
