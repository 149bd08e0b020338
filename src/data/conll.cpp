// CoNLL-style tagged files (token<TAB>tag lines, empty line between sequences): the strict reader
// and the atomic writer.
#include "recur/data/conll.h"

#include <cstdio>
#include <string_view>

#include "recur/core/error.h"
#include "recur/data/text_lines.h"
#include "recur/io/file.h"

namespace recur {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// Column (1-based) of the first whitespace byte of s, or 0 when there is none.
size_t whitespace_column(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (is_space(s[i])) return i + 1;
  return 0;
}

}  // namespace

std::vector<TaggedSequence> read_conll(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  std::vector<TaggedSequence> out;
  TaggedSequence cur;
  for_each_text_line(bytes, path, [&](std::string_view line, const std::string& where) {
    if (line.empty()) {
      if (!cur.tokens.empty()) out.push_back(std::move(cur));
      cur = {};
      return;
    }
    const size_t tab = line.find('\t');
    RECUR_CHECK(tab != std::string_view::npos,
                where << ": no tab in '" << line
                      << "'; expected token<TAB>tag (or an empty line between sequences)");
    RECUR_CHECK(line.find('\t', tab + 1) == std::string_view::npos,
                where << ": more than one tab; expected token<TAB>tag");
    const std::string_view token = line.substr(0, tab), tag = line.substr(tab + 1);
    RECUR_CHECK(!token.empty(), where << ": empty token before the tab; expected token<TAB>tag");
    RECUR_CHECK(!tag.empty(),
                where << ": empty tag after the token '" << token << "'; expected token<TAB>tag");
    if (const size_t c = whitespace_column(token))
      RECUR_FAIL(where << ": the token '" << token << "' holds whitespace at column " << c
                       << "; expected one token without spaces per line");
    if (const size_t c = whitespace_column(tag))
      RECUR_FAIL(where << ": the tag '" << tag << "' holds whitespace at column " << tab + 1 + c
                       << "; expected a tag without spaces");
    cur.tokens.emplace_back(token);
    cur.tags.emplace_back(tag);
  });
  if (!cur.tokens.empty()) out.push_back(std::move(cur));
  RECUR_CHECK(!out.empty(), "'" << path
                                << "' holds no sequences; expected token<TAB>tag lines with an "
                                   "empty line between sequences");
  return out;
}

void write_conll(const std::string& path, const std::vector<TaggedSequence>& sequences) {
  RECUR_CHECK(!sequences.empty(),
              "writing '" << path << "': no sequences; a tagged file needs at least one");
  std::string out;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const TaggedSequence& q = sequences[s];
    const std::string what = "writing '" + path + "': sequence " + std::to_string(s);
    RECUR_CHECK(!q.tokens.empty(), what << " has no tokens");
    RECUR_CHECK(q.tokens.size() == q.tags.size(),
                what << " has " << q.tokens.size() << " tokens but " << q.tags.size() << " tags");
    for (size_t i = 0; i < q.tokens.size(); ++i) {
      for (const std::string* f : {&q.tokens[i], &q.tags[i]}) {
        const char* kind = f == &q.tokens[i] ? "token" : "tag";
        RECUR_CHECK(!f->empty() && whitespace_column(*f) == 0,
                    what << " has the " << kind << " '" << *f << "' at position " << i
                         << "; expected a non-empty " << kind << " without whitespace");
        RECUR_CHECK(find_invalid_utf8(*f) == std::string_view::npos,
                    what << ": " << kind << " " << i << " is not valid UTF-8");
      }
      out += q.tokens[i];
      out += '\t';
      out += q.tags[i];
      out += '\n';
    }
    out += '\n';
  }
  write_file_atomic(path, out);
}

}  // namespace recur
