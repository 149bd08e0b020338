// bfloat16: the upper half of a float (sign, 8 exponent bits, 7 mantissa bits). Rounding to it is
// round-to-nearest-even on the dropped 16 bits; NaN stays NaN, infinities stay infinite.
#pragma once

#include <bit>
#include <cstdint>

namespace recur::cpu {

using bf16 = uint16_t;

inline bf16 to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16((u >> 16) | 0x40u);  // quiet NaN
  return bf16((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

inline float from_bf16(bf16 b) { return std::bit_cast<float>(uint32_t(b) << 16); }

// dst (rows, cols) contiguous = src (rows, cols) with leading dimension ld, rounded to bf16.
void round_to_bf16(const float* src, int64_t rows, int64_t cols, int64_t ld, bf16* dst);

}  // namespace recur::cpu
