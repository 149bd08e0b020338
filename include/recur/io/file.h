// Whole-file reads, crash-safe (atomic) writes, and little-endian decoding shared by the loaders.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace recur {

// Returns the file's bytes. Throws recur::Error naming the path when it is missing, is a directory
// or cannot be read, e.g. "cannot open 'x.npy': No such file or directory".
std::string read_file_bytes(const std::string& path);

// Replaces `path` with `bytes` so that a reader (or a crash) sees either the old file or the whole
// new one: writes a temporary file in the same directory, fsyncs it, renames it over `path`, then
// fsyncs the directory. On failure removes the temporary file and throws recur::Error naming
// `path`. An existing target keeps its permission bits; a new one gets 0666 less the umask. The
// temporary files that killed writes of `path` on this machine left behind (their processes gone)
// are removed after a successful write.
void write_file_atomic(const std::string& path, const std::string& bytes);

namespace detail {

// Test hook for crash safety (tests/cli/crash_safety.sh): RECUR_TEST_CRASH="<point>:<n>[:<part>]"
// makes the n-th write_file_atomic of this process (counting only paths containing <part>, if given)
// SIGKILL the process at <point>, so that nothing cleans up, as in a real kill.
enum class CrashPoint {
  none,
  before_header,  // the temporary file exists, empty (a safetensors file's header comes first)
  mid_data,       // half of the bytes written
  before_fsync,   // all bytes written, not yet fsynced
  before_rename,  // fsynced and closed, not yet renamed over the target
  after_rename,   // renamed, the directory not yet fsynced
};
struct CrashPlan {
  CrashPoint point = CrashPoint::none;
  int64_t write = 0;      // 1-based, among the writes that count
  std::string path_part;  // empty: every write counts
};
// Parses RECUR_TEST_CRASH's value ("" means no crash). Throws recur::Error naming the variable and
// the expected form when it is malformed.
CrashPlan parse_crash_plan(const std::string& value);
// write_file_atomic, killing this process with SIGKILL at `point` (none: the ordinary write).
void write_file_atomic_at(const std::string& path, const std::string& bytes, CrashPoint point);

static_assert(std::endian::native == std::endian::little,
              "recur's file formats are read with memcpy, which assumes a little-endian host");

// Reads a little-endian U from possibly unaligned bytes.
template <class U>
U load_le(const char* p) {
  U v;
  std::memcpy(&v, p, sizeof(U));
  return v;
}

// IEEE 754 binary16 to float (exact: every half is a float).
inline float f16_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {  // Zero or subnormal: mant * 2^-24.
    const float v = std::ldexp(float(mant), -24);
    return sign ? -v : v;
  }
  const uint32_t bits = exp == 31
                            ? sign | 0x7f800000u | (mant << 13)            // Inf or NaN.
                            : sign | ((exp + 112u) << 23) | (mant << 13);  // Rebias 15 -> 127.
  return std::bit_cast<float>(bits);
}

// bfloat16 to float: bfloat16 is the top half of a float.
inline float bf16_to_float(uint16_t h) { return std::bit_cast<float>(uint32_t(h) << 16); }

}  // namespace detail
}  // namespace recur
