// The line loop every line-based text loader shares (pairs, CoNLL, CMUdict): lines end with "\n"
// (the last one may lack it), and a non-empty line must have no carriage return and be valid UTF-8;
// errors name "path:LINE" and the column.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "recur/core/error.h"
#include "recur/data/labeled.h"

namespace recur {

// Calls f(line, where) for every line of `bytes` (the contents of `path`), empty lines included,
// where `where` is "path:LINE" (1-based) for the caller's own errors.
template <class F>
void for_each_text_line(const std::string& bytes, const std::string& path, F&& f) {
  size_t start = 0;
  for (int64_t line_no = 1; start < bytes.size(); ++line_no) {
    size_t end = bytes.find('\n', start);
    if (end == std::string::npos) end = bytes.size();
    const std::string_view line(bytes.data() + start, end - start);
    start = end + 1;
    const std::string where = path + ":" + std::to_string(line_no);
    const size_t cr = line.find('\r');
    RECUR_CHECK(cr == std::string_view::npos,
                where << ": carriage return at column " << cr + 1
                      << "; expected \\n line endings (convert the file from CRLF)");
    const size_t bad = find_invalid_utf8(line);
    if (bad != std::string_view::npos) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", unsigned((unsigned char)line[bad]));
      RECUR_FAIL(where << ": byte " << hex << " at column " << bad + 1
                       << " is not valid UTF-8; expected UTF-8 text");
    }
    f(line, where);
  }
}

}  // namespace recur
