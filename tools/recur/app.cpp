// The `recur` command line as a function: builds the app with every subcommand, parses, runs, and
// turns every library error into one clear message and a non-zero status. main.cpp calls it with
// the process's arguments; the Python module calls it for its trainer functions.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <sstream>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/core/memory.h"

namespace recur::cli {

int run_command_line(int argc, const char* const* argv, std::string* error) {
  recur::retain_freed_memory();
  recur::flush_denormals();
  CLI::App app{"recur: recurrent neural networks (RNN, LSTM, GRU) in C++"};
  app.require_subcommand(1);
  // A repeated option takes its last value (as most Unix tools do).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", "recur 0.1.0");
  Action run;
  add_run_rnn(app, run);
  add_train_lm(app, run);
  add_ngram(app, run);
  add_plot(app, run);
  add_sample(app, run);
  add_eval_lm(app, run);
  add_data(app, run);
  add_classifier(app, run);
  add_tagger(app, run);
  add_clm(app, run);
  add_forecast(app, run);
  add_seq2seq(app, run);
  add_bench_rnn(app, run);
  add_esn(app, run);
  add_rtrl(app, run);
  add_diagnose(app, run);
  add_bench_tasks(app, run);
  add_tree(app, run);
  add_jordan(app, run);
  add_run_onnx(app, run);
  add_export_onnx(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (!error) return app.exit(e);
    // --help and --version are "errors" that succeed: their text goes to stdout as usual.
    if (e.get_exit_code() == 0) return app.exit(e);
    *error = e.what();
    return e.get_exit_code();
  }
  const std::string name = app.get_subcommands().front()->get_name();
  auto report = [&](const char* what) {
    if (error) *error = "recur " + name + ": " + what;
    else std::fprintf(stderr, "recur %s: error: %s\n", name.c_str(), what);
  };
  try {
    if (run) run();
  } catch (const recur::Error& e) {
    report(e.what());
    return 1;
  } catch (const std::exception& e) {
    report(e.what());
    return 1;
  }
  return 0;
}

}  // namespace recur::cli
