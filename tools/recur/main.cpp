// recur: the command-line tool. Parsing and wiring only; the work is in the library.
#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"recur: recurrent neural networks (RNN, LSTM, GRU) in C++"};
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
