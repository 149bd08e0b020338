// Process-wide allocator settings for programs that run recur's training loops.
#pragma once

namespace recur {

// Every training window allocates and frees the same large buffers (input projections, caches,
// gradients). glibc hands freed large blocks back to the kernel, so each window pays a page fault
// per 4 KiB it touches again (about 15% of a training step in a profile). This keeps freed memory
// in the process instead: blocks up to 32 MiB come from the heap and the heap is not trimmed.
// Call once at the start of main(); the library itself never changes allocator settings.
void retain_freed_memory();

}  // namespace recur
