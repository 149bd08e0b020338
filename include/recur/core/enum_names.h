// One name table per enum: X_name and parse_X are one-liners over a constexpr EnumNames table,
// and every parse error reads "unknown <what> '<text>'; expected a, b or c".
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "recur/core/error.h"

namespace recur {

// Each value of E with its name; the order is the order the error message lists them in.
template <class E, size_t N>
using EnumNames = std::array<std::pair<E, const char*>, N>;

// The name of `value`, or `fallback` for a value the table does not hold.
template <class E, size_t N>
const char* enum_name(const EnumNames<E, N>& names, E value, const char* fallback = "?") {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return fallback;
}

// The entry named `text`, or nullptr: for callers that report a miss their own way.
template <class E, size_t N>
const E* find_enum(const EnumNames<E, N>& names, std::string_view text) {
  for (const auto& entry : names)
    if (text == entry.second) return &entry.first;
  return nullptr;
}

// The value named `text`; throws recur::Error "unknown <what> '<text>'; expected a, b or c".
template <class E, size_t N>
E parse_enum(const EnumNames<E, N>& names, const std::string& text, const char* what) {
  if (const E* found = find_enum(names, text)) return *found;
  std::string expected;
  for (size_t k = 0; k < N; ++k) {
    if (k) expected += k + 1 == N ? " or " : ", ";
    expected += names[k].second;
  }
  RECUR_FAIL("unknown " << what << " '" << text << "'; expected " << expected);
}

}  // namespace recur
