// EXPECT_RECUR_ERROR(statement, needles...): the statement must throw recur::Error (not another
// exception, not nothing) and the message must contain every needle (a file path, a tensor name,
// what was expected). Shared by the bad-input tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "recur/core/error.h"

namespace recur::testing {

inline void ExpectError(const std::function<void()>& f, const std::vector<std::string>& needles,
                        const char* file, int line) {
  try {
    f();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& n : needles)
      if (msg.find(n) == std::string::npos)
        ADD_FAILURE_AT(file, line) << "message lacks \"" << n << "\": " << msg;
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE_AT(file, line) << "threw a non-recur exception: " << e.what();
    return;
  }
  ADD_FAILURE_AT(file, line) << "no recur::Error was thrown";
}

}  // namespace recur::testing

#define EXPECT_RECUR_ERROR(stmt, ...) \
  ::recur::testing::ExpectError([&] { stmt; }, {__VA_ARGS__}, __FILE__, __LINE__)
