#include "interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "recur/dist/communicator.h"

namespace recur::cli {
namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the handler's store must be async-signal-safe");

// Under an MPI launcher, which rank heard which signal goes to the job's shared log. The lines are
// made before any signal can come, so that a handler only write()s (async-signal-safe).
char g_said_int[256], g_said_term[256];

void announce(int sig) {
  const char* line = sig == SIGINT ? g_said_int : g_said_term;
  size_t n = 0;
  while (line[n]) ++n;
  if (n > 0 && write(2, line, n) < 0) return;
}

void on_signal(int sig) {
  g_stop.store(true);
  announce(sig);
}

}  // namespace

const std::atomic<bool>* stop_on_interrupt() {
  static const bool installed = [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    // Threads that libraries started before main (OpenBLAS's, under LAPACK) do not block the
    // signals, and a process-directed signal goes to such a thread first. They never run oneDNN's
    // JIT kernels, so a handler is safe there; it also replaces the "ignore" a non-interactive
    // shell gives background jobs, which would otherwise swallow the signal on those threads.
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // this thread and every thread started after it
    if (dist::launched_by_mpi()) {
      const char* what =
          ": every rank stops after this step and rank 0 writes a checkpoint (if a rank has died, "
          "the launcher ends this one first: resume from the last checkpoint written)\n";
      std::snprintf(g_said_int, sizeof g_said_int, "recur: rank %d: SIGINT%s", dist::launched_rank(), what);
      std::snprintf(g_said_term, sizeof g_said_term, "recur: rank %d: SIGTERM%s", dist::launched_rank(), what);
    }
    std::thread([set] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        g_stop.store(true);
        announce(sig);
      }
    }).detach();
    return true;
  }();
  (void)installed;
  return &g_stop;
}

}  // namespace recur::cli
