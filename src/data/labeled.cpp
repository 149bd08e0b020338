// Labeled TSV files (label<TAB>escaped text per line): the strict reader, the atomic writer, and
// the UTF-8 checks they share with the fortune loader.
#include "recur/data/labeled.h"

#include <cstdio>

#include "recur/core/error.h"
#include "recur/io/file.h"

namespace recur {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool only_space(std::string_view s) {
  for (char c : s)
    if (!is_space(c)) return false;
  return true;
}

// "0xe9": how a stray byte is named in messages.
std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", b);
  return buf;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 where there is none.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return (unsigned char)s[k]; };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  // Lead byte: the sequence length and the allowed range of the second byte, which is where
  // overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above
  // U+10FFFF (F4 90..BF, F5..FF) are excluded (RFC 3629, table 3-7 of the Unicode standard).
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  if (n == 0 || i + n > s.size() || b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

// The escapes: '\\' then a letter of kEscaped stands for the character at the same place in kRaw.
constexpr std::string_view kEscaped = "ntr\\", kRaw = "\n\t\r\\";

// Undoes the escapes of one text field that starts at 1-based `column` of its line; `where`
// ("file:line") prefixes the error.
std::string unescape(std::string_view field, size_t column, const std::string& where) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out += field[i];
      continue;
    }
    RECUR_CHECK(i + 1 < field.size(), where << ": the text ends with a lone backslash; expected "
                                               "\\n, \\t, \\r or \\\\ (write a backslash as \\\\)");
    const size_t k = kEscaped.find(field[++i]);
    RECUR_CHECK(k != std::string_view::npos,
                where << ": bad escape '\\" << field[i] << "' at column " << column + i - 1
                      << "; expected \\n, \\t, \\r or \\\\ (write a backslash as \\\\)");
    out += kRaw[k];
  }
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    const size_t k = kRaw.find(c);
    if (k == std::string_view::npos) {
      out += c;
    } else {
      out += '\\';
      out += kEscaped[k];
    }
  }
  return out;
}

}  // namespace

size_t find_invalid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

int64_t utf8_code_points(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<LabeledText> read_labeled_tsv(const std::string& path) {
  const std::string bytes = read_file_bytes(path);
  std::vector<LabeledText> rows;
  size_t start = 0;
  for (int64_t line_no = 1; start < bytes.size(); ++line_no) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();  // the last line may lack its newline
    const std::string_view line(bytes.data() + start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    RECUR_CHECK(!only_space(line), where << ": the line holds only whitespace; expected "
                                            "label<TAB>text (or a fully empty line)");
    const size_t bad = find_invalid_utf8(line);
    RECUR_CHECK(bad == std::string_view::npos,
                where << ": byte " << hex_byte((unsigned char)line[bad]) << " at column " << bad + 1
                      << " is not valid UTF-8; expected UTF-8 text");
    const size_t cr = line.find('\r');
    RECUR_CHECK(cr == std::string_view::npos,
                where << ": carriage return at column " << cr + 1
                      << "; expected \\n line endings (convert the file from CRLF) and \\r escaped "
                         "in the text");
    const size_t tab = line.find('\t');
    RECUR_CHECK(tab != std::string_view::npos, where << ": no tab; expected label<TAB>text");
    RECUR_CHECK(line.find('\t', tab + 1) == std::string_view::npos,
                where << ": more than one tab; expected label<TAB>text with tabs in the text "
                         "written as \\t");
    const std::string_view label = line.substr(0, tab);
    RECUR_CHECK(!label.empty(), where << ": empty label; expected label<TAB>text");
    RECUR_CHECK(!is_space(label.front()) && !is_space(label.back()),
                where << ": the label '" << label << "' starts or ends with whitespace");
    std::string text = unescape(line.substr(tab + 1), tab + 2, where);
    RECUR_CHECK(!only_space(text),
                where << ": empty text after the label '" << label << "'; expected label<TAB>text");
    rows.push_back({std::string(label), std::move(text)});
  }
  RECUR_CHECK(!rows.empty(),
              "'" << path << "' holds no examples; expected lines of label<TAB>text");
  return rows;
}

void write_labeled_tsv(const std::string& path, const std::vector<LabeledText>& rows) {
  RECUR_CHECK(!rows.empty(), "writing '" << path
                                         << "': no rows; a labeled file needs at least one "
                                            "example");
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    const LabeledText& row = rows[r];
    const std::string_view label = row.label;
    RECUR_CHECK(!label.empty() && label.find_first_of("\t\n\r") == std::string_view::npos &&
                    !is_space(label.front()) && !is_space(label.back()),
                "writing '" << path << "': row " << r << " has the label '" << escape(label)
                            << "'; expected a non-empty label without tabs, newlines or "
                               "surrounding whitespace");
    RECUR_CHECK(!only_space(row.text), "writing '" << path << "': row " << r << " (label '" << label
                                                   << "') has an empty text");
    RECUR_CHECK(find_invalid_utf8(label) == std::string_view::npos &&
                    find_invalid_utf8(row.text) == std::string_view::npos,
                "writing '" << path << "': row " << r << " (label '" << escape(label)
                            << "') is not valid UTF-8");
    out += label;
    out += '\t';
    out += escape(row.text);
    out += '\n';
  }
  write_file_atomic(path, out);
}

}  // namespace recur
