// Parallel token sequences (source<TAB>target, tokens separated by single spaces): the strict
// reader and the atomic writer.
#include "recur/data/pairs.h"

#include <cstdio>
#include <string_view>

#include "recur/core/error.h"
#include "recur/data/text_lines.h"
#include "recur/io/file.h"

namespace recur {
namespace {

// Splits one side of a pair, which starts at 1-based `column` of its line, at single spaces.
// `side` ("source", "target") and `where` ("file:line") name it in errors.
std::vector<std::string> split_tokens(std::string_view text, size_t column, const char* side,
                                      const std::string& where) {
  RECUR_CHECK(!text.empty(), where << ": empty " << side
                                   << " side; expected source<TAB>target "
                                      "with tokens separated by single spaces on each side");
  std::vector<std::string> tokens;
  size_t start = 0;
  while (true) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    RECUR_CHECK(end > start,
                where << ": empty token at column " << column + start << " of the " << side
                      << " side '" << text
                      << "' (a leading or trailing space, or two spaces in a row); expected "
                         "tokens separated by single spaces");
    tokens.emplace_back(text.substr(start, end - start));
    if (end == text.size()) break;
    start = end + 1;
  }
  return tokens;
}

// What is wrong with a token for the writer, or nullptr when it is fine.
const char* token_problem(std::string_view t) {
  if (t.empty()) return "an empty token";
  if (t.find(' ') != std::string_view::npos) return "a space inside a token";
  if (t.find('\t') != std::string_view::npos) return "a tab inside a token";
  if (t.find('\n') != std::string_view::npos) return "a newline inside a token";
  if (t.find('\r') != std::string_view::npos) return "a carriage return inside a token";
  if (find_invalid_utf8(t) != std::string_view::npos) return "a token that is not valid UTF-8";
  return nullptr;
}

}  // namespace

std::vector<SequencePair> read_sequence_pairs(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  std::vector<SequencePair> pairs;
  for_each_text_line(bytes, path, [&](std::string_view line, const std::string& where) {
    if (line.empty()) return;
    const size_t tab = line.find('\t');
    RECUR_CHECK(tab != std::string_view::npos,
                where << ": no tab in '" << line
                      << "'; expected source<TAB>target (or a fully empty line)");
    RECUR_CHECK(line.find('\t', tab + 1) == std::string_view::npos,
                where << ": more than one tab; expected source<TAB>target with tokens "
                         "separated by single spaces");
    SequencePair p;
    p.source = split_tokens(line.substr(0, tab), 1, "source", where);
    p.target = split_tokens(line.substr(tab + 1), tab + 2, "target", where);
    pairs.push_back(std::move(p));
  });
  RECUR_CHECK(!pairs.empty(),
              "'" << path << "' holds no pairs; expected lines of source<TAB>target");
  return pairs;
}

void write_sequence_pairs(const std::string& path, const std::vector<SequencePair>& pairs) {
  RECUR_CHECK(!pairs.empty(),
              "writing '" << path << "': no pairs; a pairs file needs at least one");
  std::string out;
  for (size_t r = 0; r < pairs.size(); ++r) {
    const std::pair<const char*, const std::vector<std::string>*> sides[] = {
        {"source", &pairs[r].source}, {"target", &pairs[r].target}};
    for (const auto& [side, tokens] : sides) {
      RECUR_CHECK(!tokens->empty(),
                  "writing '" << path << "': row " << r << " has an empty " << side << " side");
      for (size_t k = 0; k < tokens->size(); ++k) {
        const char* problem = token_problem((*tokens)[k]);
        RECUR_CHECK(!problem, "writing '" << path << "': row " << r << " has " << problem << " ("
                                          << side << " token " << k
                                          << "); expected non-empty UTF-8 tokens without "
                                             "spaces, tabs, newlines or carriage returns");
      }
    }
    for (const auto& [side, tokens] : sides) {
      for (size_t k = 0; k < tokens->size(); ++k) {
        if (k) out += ' ';
        out += (*tokens)[k];
      }
      out += side == sides[0].first ? '\t' : '\n';
    }
  }
  write_file_atomic(path, out);
}

}  // namespace recur
