// recur: the command-line tool. Dispatches to the subcommands in tools/recur/cmd_*.cpp and turns
// every library error into one clear line on stderr and a non-zero exit code.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/core/memory.h"

int main(int argc, char** argv) {
  recur::retain_freed_memory();
  recur::flush_denormals();
  CLI::App app{"recur: recurrent neural networks (RNN, LSTM, GRU) in C++"};
  app.require_subcommand(1);
  // A repeated option takes its last value (as most Unix tools do).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", "recur 0.1.0");
  recur::cli::Action run;
  recur::cli::add_run_rnn(app, run);
  recur::cli::add_train_lm(app, run);
  recur::cli::add_ngram(app, run);
  recur::cli::add_plot(app, run);
  recur::cli::add_sample(app, run);
  recur::cli::add_eval_lm(app, run);
  recur::cli::add_data(app, run);
  recur::cli::add_classifier(app, run);
  recur::cli::add_tagger(app, run);
  recur::cli::add_clm(app, run);
  recur::cli::add_forecast(app, run);
  recur::cli::add_seq2seq(app, run);
  recur::cli::add_bench_rnn(app, run);
  recur::cli::add_esn(app, run);
  recur::cli::add_rtrl(app, run);
  recur::cli::add_diagnose(app, run);
  recur::cli::add_bench_tasks(app, run);
  recur::cli::add_tree(app, run);
  recur::cli::add_jordan(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const std::string name = app.get_subcommands().front()->get_name();
  try {
    if (run) run();
  } catch (const recur::Error& e) {
    std::fprintf(stderr, "recur %s: error: %s\n", name.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recur %s: error: %s\n", name.c_str(), e.what());
    return 1;
  }
  return 0;
}
