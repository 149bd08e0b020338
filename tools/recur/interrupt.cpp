#include "interrupt.h"

#include <csignal>

namespace recur::cli {
namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_interrupt(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>* stop_on_interrupt() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  return &g_stop;
}

}  // namespace recur::cli
