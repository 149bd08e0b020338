// FNV-1a, 64 bits: a fixed, portable hash of bytes, for data fingerprints and deterministic splits.
#pragma once

#include <cstdint>
#include <string_view>

namespace recur {

// Offset basis 0xcbf29ce484222325, prime 0x100000001b3.
inline uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace recur
