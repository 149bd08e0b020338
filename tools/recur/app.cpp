// The `recur` command line as a function: builds the app with every subcommand, parses, runs, and
// turns every library error into one clear message and status 1, every usage error (a wrong
// command line, refused before any work) into a message with a suggestion and status 2. main.cpp calls it with
// the process's arguments; the Python module calls it for its trainer functions.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <optional>
#include <sstream>

#include "commands.h"
#include "recur/core/error.h"
#include "recur/core/memory.h"
#include "recur/dist/communicator.h"
#include "recur/version.h"

namespace recur::cli {
namespace {

constexpr int kUsageError = 2;  // a wrong command line (as grep, ls, ...); 1 is a failed run

// The commands that train data-parallel under mpirun (the others refuse to run there).
bool is_data_parallel(const std::string& name) {
  for (const char* c : {"train-lm", "train-classifier", "train-tagger", "train-clm", "train-seq2seq",
                        "train-forecaster", "train-tree"})
    if (name == c) return true;
  return false;
}

}  // namespace

namespace {
// The whole text as a number, or nothing when any of it is not.
std::optional<double> whole_number(const std::string& text) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used == 0 || used != text.size()) return std::nullopt;
  return v;
}
}  // namespace

CLI::Validator number_above(double lo, bool inclusive) {
  const std::string bound = std::string(inclusive ? ">= " : "> ") + (lo == 0 ? "0" : std::to_string(lo));
  return CLI::Validator(
      [lo, inclusive, bound](std::string& text) -> std::string {
        const std::optional<double> v = whole_number(text);
        if (!v) return "expected a number, got '" + text + "'";
        if (!(inclusive ? *v >= lo : *v > lo)) return "must be " + bound + ", got " + text;
        return "";
      },
      inclusive ? "NONNEGATIVE" : "POSITIVE", bound);
}

CLI::Validator number_in(double lo, double hi, bool open) {
  std::ostringstream range;
  range << (open ? "(" : "[") << lo << ", " << hi << (open ? ")" : "]");
  const std::string bound = range.str();
  return CLI::Validator(
      [lo, hi, open, bound](std::string& text) -> std::string {
        const std::optional<double> got = whole_number(text);
        if (!got) return "expected a number, got '" + text + "'";
        const double v = *got;
        const bool inside = open ? v > lo && v < hi : v >= lo && v <= hi;
        if (!inside) return "must be in " + bound + ", got " + text;
        return "";
      },
      "in " + bound, bound);
}

CLI::Option* add_threads_option(CLI::App* c, int& threads) {
  return c->add_option("--threads", threads, "CPU threads (0: all cores)")
      ->capture_default_str()
      ->check(Threads);
}

int run_command_line(int argc, const char* const* argv, std::string* error) {
  recur::retain_freed_memory();
  recur::flush_denormals();
  CLI::App app{"recur: recurrent neural networks (RNN, LSTM, GRU) in C++"};
  app.require_subcommand(1);
  // A repeated option takes its last value (as most Unix tools do).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("--version", "recur " RECUR_VERSION);
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
  add_serve(app, run);
  add_shared_checks(app);
  // Parsing checks every value (the subcommands' callbacks check values against each other), so
  // a usage error stops the command before any work, with status 2 as Unix tools use.
  try {
    try {
      app.parse(argc, argv);
    } catch (const recur::Error& e) {
      throw CLI::ValidationError(e.what());  // a library parser (parse_cell ...) on a bad value
    }
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that succeed: their text goes to stdout as usual.
    if (e.get_exit_code() == 0) return app.exit(e);
    const std::string msg = usage_message(app, e, argc, argv);
    if (error) *error = msg;
    else std::fprintf(stderr, "%s\n", msg.c_str());
    return kUsageError;
  }
  const std::string name = app.get_subcommands().front()->get_name();
  // Under an MPI launcher (recur/dist/communicator.h) every rank runs this: a rank that fails
  // says why (naming itself) and ends the whole job, so no rank waits for it forever.
  const bool ranks = dist::launched_by_mpi();
  auto report = [&](const char* what) {
    std::string where;
    if (ranks && dist::built_with_mpi())
      where = " (rank " + std::to_string(dist::world().rank()) + " of " +
              std::to_string(dist::world().size()) + ")";
    if (error) *error = "recur " + name + where + ": " + what;
    else std::fprintf(stderr, "recur %s%s: error: %s\n", name.c_str(), where.c_str(), what);
    if (ranks && dist::built_with_mpi() && dist::world().size() > 1) {
      std::fflush(stderr);
      dist::world().abort(1);
    }
  };
  try {
    if (ranks) {
      RECUR_CHECK(is_data_parallel(name),
                  "this command runs as one process; run it without mpirun (data-parallel: "
                  "train-lm, train-classifier, train-tagger, train-clm, train-seq2seq, "
                  "train-forecaster, train-tree)");
      // Starts MPI now (or says why it cannot), before any work. Rank 0 alone prints results:
      // the others' standard output is discarded (their errors still reach standard error).
      if (dist::world().rank() != 0 && !std::freopen("/dev/null", "w", stdout))
        RECUR_FAIL("cannot silence standard output on rank " << dist::world().rank());
    }
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
