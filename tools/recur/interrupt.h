// Ctrl-C and SIGTERM for the training commands: the signal sets a flag the trainer polls between
// steps (it then writes a checkpoint and returns), instead of killing the process.
//
// The signals are blocked in every computing thread and taken by one thread that waits for them
// (sigwait), so they never interrupt a computation. That is not only tidier: Debian's oneDNN 2.6
// JIT GEMM kernels point the stack pointer into a heap buffer while they run, so a signal handler
// run on such a thread writes its frame into the heap (oneDNN issue #4845, fixed in 3.11): with a
// plain handler about one Ctrl-C in three crashed with "malloc assertion failure". The handler that
// is installed as well only runs on threads other libraries started before main (OpenBLAS's), which
// never block the signals and never run oneDNN's kernels (interrupt.cpp).
#pragma once

#include <atomic>

namespace recur::cli {

// Call before any other thread starts (OpenMP's threads inherit the blocked signals). Installs
// the waiting thread (once) and returns the flag it sets.
const std::atomic<bool>* stop_on_interrupt();

}  // namespace recur::cli
