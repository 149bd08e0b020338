// Punctuation restoration data: words and casing/punctuation tags from text, the reverse
// (restoration), the `bible` layout reader and the hash split. Rules in punctuation.h.
#include "recur/data/punctuation.h"

#include <cctype>

#include "recur/core/enum_names.h"
#include "recur/core/error.h"
#include "recur/data/fortunes.h"

namespace recur {
namespace {

constexpr EnumNames<Casing, kNumCasings> kCasingNames{
    {{Casing::lower, "lower"}, {Casing::cap, "Cap"}, {Casing::upper, "UPPER"}}};
constexpr EnumNames<Punct, kNumPuncts> kPunctNames{{{Punct::none, "none"},
                                                    {Punct::comma, "comma"},
                                                    {Punct::period, "period"},
                                                    {Punct::colon, "colon"},
                                                    {Punct::semicolon, "semicolon"},
                                                    {Punct::question, "question"},
                                                    {Punct::exclamation, "exclamation"}}};
constexpr std::string_view kMarks = ",.:;?!";  // Punct 1..6 in order

bool is_ascii_alnum(unsigned char c) { return std::isalnum(c) && c < 0x80; }
bool is_word_byte(unsigned char c) {
  return is_ascii_alnum(c) || c == '\'' || c == '-' || c >= 0x80;
}
bool is_ascii_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool is_ascii_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }

// Typographic quotes, dashes and the ellipsis as their ASCII counterparts (see punctuation.h).
std::string ascii_marks(std::string_view text) {
  struct Map {
    std::string_view from, to;
  };
  static constexpr Map kMaps[] = {{"\u2019", "'"},  {"\u2018", "'"},  {"\u201c", "\""},
                                  {"\u201d", "\""}, {"\u2013", "--"}, {"\u2014", "--"},
                                  {"\u2026", "."}};
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    bool mapped = false;
    if ((unsigned char)text[i] == 0xE2)
      for (const Map& m : kMaps)
        if (text.substr(i, m.from.size()) == m.from) {
          out += m.to;
          i += m.from.size();
          mapped = true;
          break;
        }
    if (!mapped) out += text[i++];
  }
  return out;
}

Casing casing_of(std::string_view word) {
  const std::string_view stem = word.substr(0, word.find('\''));
  int letters = 0, upper = 0;
  for (unsigned char c : stem) {
    letters += is_ascii_upper(c) || is_ascii_lower(c);
    upper += is_ascii_upper(c);
  }
  if (letters >= 2 && upper == letters) return Casing::upper;
  for (unsigned char c : word)
    if (is_ascii_upper(c) || is_ascii_lower(c))
      return is_ascii_upper(c) ? Casing::cap : Casing::lower;
  return Casing::lower;
}

struct Word {
  size_t begin, end;  // bytes of the (normalised) text
};

// Trims a piece of a run [b, e) by the rules of punctuation.h; false when no word is left.
bool trim_word(const std::string& s, size_t& b, size_t& e) {
  while (b < e && (s[b] == '-' || s[b] == '\'')) ++b;
  while (e > b && s[e - 1] == '-') --e;
  // A trailing apostrophe stays only as the plural possessive "s'".
  while (e > b && s[e - 1] == '\'') {
    if (e - b >= 2 && (s[e - 2] == 's' || s[e - 2] == 'S')) break;
    --e;
    while (e > b && s[e - 1] == '-') --e;
  }
  for (size_t i = b; i < e; ++i) {
    const unsigned char c = (unsigned char)s[i];
    if (is_ascii_alnum(c) || c >= 0x80) return true;
  }
  return false;
}

std::vector<Word> find_words(const std::string& s) {
  std::vector<Word> words;
  for (size_t i = 0; i < s.size();) {
    if (!is_word_byte((unsigned char)s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && is_word_byte((unsigned char)s[j])) ++j;
    // Pieces of the run between "--" dashes.
    for (size_t p = i; p < j;) {
      size_t q = s.find("--", p);
      if (q == std::string::npos || q > j) q = j;
      size_t b = p, e = q;
      if (trim_word(s, b, e)) words.push_back({b, e});
      p = q == j ? j : q + 2;
    }
    i = j;
  }
  return words;
}

Punct first_mark(std::string_view gap) {
  for (char c : gap) {
    const size_t k = kMarks.find(c);
    if (k != std::string_view::npos) return Punct(int(k) + 1);
  }
  return Punct::none;
}

std::string lower_ascii(std::string_view w) {
  std::string out(w);
  for (char& c : out)
    if (is_ascii_upper((unsigned char)c)) c = char(c - 'A' + 'a');
  return out;
}

// The words of a text (typographic marks already made ASCII) with their tags.
TaggedSequence tag_words(const std::string& s) {
  const std::vector<Word> words = find_words(s);
  TaggedSequence q;
  for (size_t k = 0; k < words.size(); ++k) {
    const std::string_view w(s.data() + words[k].begin, words[k].end - words[k].begin);
    const size_t gap_end = k + 1 < words.size() ? words[k + 1].begin : s.size();
    const RestorationTag t{
        casing_of(w), first_mark(std::string_view(s).substr(words[k].end, gap_end - words[k].end))};
    q.tokens.push_back(lower_ascii(w));
    q.tags.push_back(restoration_tag_name(t));
  }
  return q;
}

bool is_blank(std::string_view line) {
  for (char c : line)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

}  // namespace

const char* casing_name(Casing c) { return enum_name(kCasingNames, c); }
const char* punct_name(Punct p) { return enum_name(kPunctNames, p); }
char punct_mark(Punct p) { return p == Punct::none ? 0 : kMarks[size_t(int(p) - 1)]; }

std::string restoration_tag_name(RestorationTag t) {
  std::string s(casing_name(t.casing));
  if (t.punct != Punct::none) (s += ',') += punct_name(t.punct);
  return s;
}

bool parse_restoration_tag(std::string_view name, RestorationTag* out) {
  const size_t comma = name.find(',');
  const Casing* casing = find_enum(kCasingNames, name.substr(0, comma));
  if (!casing) return false;
  RestorationTag t;
  t.casing = *casing;
  if (comma != std::string_view::npos) {
    const Punct* punct = find_enum(kPunctNames, name.substr(comma + 1));
    if (!punct || *punct == Punct::none) return false;  // "none" is written by leaving it out
    t.punct = *punct;
  }
  *out = t;
  return true;
}

TaggedSequence punctuation_sequence(std::string_view text) { return tag_words(ascii_marks(text)); }

std::vector<std::string> plain_words(std::string_view text) {
  return punctuation_sequence(text).tokens;
}

std::string restore_text(const std::vector<std::string>& words,
                         const std::vector<RestorationTag>& tags) {
  RECUR_CHECK(words.size() == tags.size(),
              "restore_text: " << words.size() << " words but " << tags.size() << " tags");
  std::string out;
  for (size_t k = 0; k < words.size(); ++k) {
    std::string w = words[k];
    if (tags[k].casing == Casing::upper) {
      for (size_t i = 0; i < w.size() && w[i] != '\''; ++i)
        if (is_ascii_lower((unsigned char)w[i])) w[i] = char(w[i] - 'a' + 'A');
    } else if (tags[k].casing == Casing::cap) {
      for (char& c : w)
        if (is_ascii_lower((unsigned char)c) || is_ascii_upper((unsigned char)c)) {
          if (is_ascii_lower((unsigned char)c)) c = char(c - 'a' + 'A');
          break;
        }
    }
    if (k) out += ' ';
    out += w;
    if (const char m = punct_mark(tags[k].punct)) out += m;
  }
  return out;
}

constexpr EnumNames<TextLayout, 3> kTextLayoutNames{{{TextLayout::bible, "bible"},
                                                     {TextLayout::lines, "lines"},
                                                     {TextLayout::sentences, "sentences"}}};

TextLayout parse_text_layout(const std::string& name) {
  return parse_enum(kTextLayoutNames, name, "text layout");
}
const char* text_layout_name(TextLayout layout) { return enum_name(kTextLayoutNames, layout); }

std::vector<std::string> bible_verses(const std::string& text, const std::string& source) {
  std::vector<std::string> verses;
  bool in_verse = false, after_blank = true;
  size_t start = 0;
  for (int64_t line_no = 1; start < text.size(); ++line_no) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_blank(line)) {
      in_verse = false;
      after_blank = true;
      continue;
    }
    const std::string where = source + ":" + std::to_string(line_no);
    if (line.front() == ' ') {  // "  N text": a verse starts
      size_t i = line.find_first_not_of(' ');
      const size_t digits = i;
      while (i < line.size() && std::isdigit((unsigned char)line[i])) ++i;
      RECUR_CHECK(i > digits && i < line.size() && line[i] == ' ',
                  where << ": an indented line that is not a verse ('  N text'); expected the "
                           "layout of `bible` output (for plain text use --format lines or "
                           "sentences)");
      const size_t body = line.find_first_not_of(' ', i);
      verses.emplace_back(body == std::string_view::npos ? std::string_view() : line.substr(body));
      in_verse = true;
    } else if (after_blank) {
      in_verse = false;  // a chapter title ("Genesis 1", "Song of Solomon 2")
    } else {
      RECUR_CHECK(in_verse, where << ": a line of text outside any verse (after a chapter title "
                                     "without an empty line?); expected the layout of `bible` "
                                     "output: title, empty line, verses '  N text' (for plain text "
                                     "use --format lines or sentences)");
      (verses.back() += ' ') += line;
    }
    after_blank = false;
  }
  RECUR_CHECK(!verses.empty(), source << ": no verses ('  N text' lines); expected the layout of "
                                         "`bible` output (for plain text use --format lines or "
                                         "sentences)");
  return verses;
}

PunctuationDataset build_punctuation_dataset(const std::string& text, TextLayout layout,
                                             int64_t max_words, const std::string& source) {
  RECUR_CHECK(max_words >= 0, "the word cap must be >= 0 (0: none), got " << max_words);
  std::vector<TaggedSequence> units;
  if (layout == TextLayout::bible) {
    for (const std::string& v : bible_verses(text, source))
      units.push_back(punctuation_sequence(v));
  } else if (layout == TextLayout::lines) {
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string_view line(text.data() + start, end - start);
      start = end + 1;
      if (!is_blank(line)) units.push_back(punctuation_sequence(line));
    }
  } else {
    const TaggedSequence all = punctuation_sequence(text);
    TaggedSequence cur;
    for (size_t k = 0; k < all.tokens.size(); ++k) {
      cur.tokens.push_back(all.tokens[k]);
      cur.tags.push_back(all.tags[k]);
      RestorationTag t;
      parse_restoration_tag(all.tags[k], &t);
      if (t.punct == Punct::period || t.punct == Punct::question || t.punct == Punct::exclamation) {
        units.push_back(std::move(cur));
        cur = {};
      }
    }
    if (!cur.tokens.empty()) units.push_back(std::move(cur));
  }
  PunctuationDataset ds;
  ds.units = int64_t(units.size());
  for (TaggedSequence& q : units) {
    if (q.tokens.empty()) {
      ++ds.empty;
      continue;
    }
    if (max_words > 0 && int64_t(q.tokens.size()) > max_words) {
      ++ds.too_long;
      continue;
    }
    std::vector<RestorationTag> tags(q.tags.size());
    for (size_t k = 0; k < tags.size(); ++k) parse_restoration_tag(q.tags[k], &tags[k]);
    switch (split_of(restore_text(q.tokens, tags))) {
      case Split::train:
        ds.train.push_back(std::move(q));
        break;
      case Split::valid:
        ds.valid.push_back(std::move(q));
        break;
      case Split::test:
        ds.test.push_back(std::move(q));
        break;
    }
  }
  return ds;
}

}  // namespace recur
