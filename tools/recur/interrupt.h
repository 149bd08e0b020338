// Ctrl-C and SIGTERM for the training commands: the first signal sets a flag the trainer polls
// between steps (it then writes a checkpoint and returns), instead of killing the process.
#pragma once

#include <atomic>

namespace recur::cli {

// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>* stop_on_interrupt();

}  // namespace recur::cli
