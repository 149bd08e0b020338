// `recur train-lm`: placeholder registration until the language-model trainer lands.
#include "commands.h"

namespace recur::cli {
void add_train_lm(CLI::App&, Action&) {}
}  // namespace recur::cli
