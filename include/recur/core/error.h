// recur::Error and RECUR_CHECK: the one way the library reports bad input (throw, never exit).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace recur {

// Every failure the library reports to a caller. The message names what was wrong and what was
// expected; where a file or tensor is involved, it names that too.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
[[noreturn]] inline void fail(const char* file, int line, const std::string& msg) {
  std::ostringstream os;
  os << msg << " [" << file << ":" << line << "]";
  throw Error(os.str());
}
}  // namespace detail

}  // namespace recur

// RECUR_CHECK(cond, stream-expression): throws recur::Error with the message and the source location.
//   RECUR_CHECK(x.dim(2) == I, "input has " << x.dim(2) << " features, expected " << I);
#define RECUR_CHECK(cond, msg)                                  \
  do {                                                          \
    if (!(cond)) {                                              \
      std::ostringstream recur_check_os_;                       \
      recur_check_os_ << msg;                                   \
      ::recur::detail::fail(__FILE__, __LINE__, recur_check_os_.str()); \
    }                                                           \
  } while (0)

// RECUR_FAIL(stream-expression): unconditional failure.
#define RECUR_FAIL(msg) RECUR_CHECK(false, msg)
