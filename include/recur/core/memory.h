// Process-wide settings for programs that run recur's training loops: the allocator, and the
// floating-point unit's handling of denormal numbers.
#pragma once

namespace recur {

// Every training window allocates and frees the same large buffers (input projections, caches,
// gradients). glibc hands freed large blocks back to the kernel, so each window pays a page fault
// per 4 KiB it touches again (about 15% of a training step in a profile). This keeps freed memory
// in the process instead: blocks up to 32 MiB come from the heap and the heap is not trimmed.
// Call once at the start of main(); the library itself never changes allocator settings.
void retain_freed_memory();

// Gradients that vanish through time (the seeds' gamma^{T-k}) pass through denormal floats on the
// way to zero, and x86 computes on denormals up to a hundred times slower: a tanh RNN's training
// step at T = 1000 ran 4.5 times slower than the same step of a ReLU RNN for that alone. This flushes
// denormal results and inputs to zero (SSE/AVX FTZ and DAZ) on the calling thread, and so on every
// thread it creates afterwards (they inherit the setting). Values that small carry no information
// for training. Call first thing in main(), before any thread exists; the library itself never
// changes the floating-point mode.
void flush_denormals();

}  // namespace recur
