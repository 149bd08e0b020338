#include "recur/core/memory.h"

#include <malloc.h>
#include <omp.h>
#include <xmmintrin.h>

namespace recur {

void retain_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed value on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

void flush_denormals() {
  constexpr unsigned kFlushToZero = 0x8000, kDenormalsAreZero = 0x0040;
  auto set = [] { _mm_setcsr(_mm_getcsr() | kFlushToZero | kDenormalsAreZero); };
  set();
  // The pool's threads have their own control registers: set each one once.
#pragma omp parallel
  set();
}

}  // namespace recur
