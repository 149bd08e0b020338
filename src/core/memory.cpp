#include "recur/core/memory.h"

#include <malloc.h>
#include <xmmintrin.h>

namespace recur {

void retain_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed value on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

void flush_denormals() {
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  // A thread starts with its creator's control register, so setting it here, before any thread
  // exists, covers the OpenMP and oneDNN threads made later. (Starting the pool here instead would
  // create threads before the CLI blocks SIGINT for its Ctrl-C handling.)
  _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero);
}

}  // namespace recur
