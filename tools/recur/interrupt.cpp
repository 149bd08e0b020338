#include "interrupt.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

namespace recur::cli {

const std::atomic<bool>* stop_on_interrupt() {
  static std::atomic<bool> stop{false};
  static const bool installed = [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // this thread and every thread started after it
    std::thread([set] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) == 0) stop.store(true);
      }
    }).detach();
    return true;
  }();
  (void)installed;
  return &stop;
}

}  // namespace recur::cli
