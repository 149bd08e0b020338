// The subcommands of `recur`: each file under tools/recur/ adds one to the app. Parsing and wiring
// only; the work is in the library.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace recur::cli {

// The whole command line: parses argv (argv[0] is the program name), runs the subcommand and
// returns the exit status. Errors go to stderr, or into *error where it is given.
int run_command_line(int argc, const char* const* argv, std::string* error = nullptr);

// Number checks with plain messages ("--lr: must be > 0, got -1"), used instead of CLI11's
// PositiveNumber and NonNegativeNumber, whose messages spell out the largest double.
CLI::Validator number_above(double lo, bool inclusive);
inline const CLI::Validator Positive = number_above(0, false);
inline const CLI::Validator NonNegative = number_above(0, true);
// A number in [lo, hi], or (lo, hi) where open ("--val-fraction: must be in (0, 0.5), got 2").
CLI::Validator number_in(double lo, double hi, bool open = false);
// --threads N: 0 means all cores (app.cpp adds it to every --threads that lacks it).
inline const CLI::Validator Threads = number_above(0, true).name("THREADS");

// Usage errors (exit status 2, app.cpp): the message with a suggestion for the closest command or
// option, and a check between options that throws one ("--nbest 5 needs --beam >= 5").
std::string usage_message(const CLI::App& app, const CLI::ParseError& e, int argc,
                          const char* const* argv);
void check_usage(bool ok, const std::string& message);
// Adds the checks every command's shared options get (--threads >= 0) wherever they are missing.
void add_shared_checks(CLI::App& app);
// Optimal string alignment distance, and the candidate nearest `word` (within two edits, one for
// words of up to 4 characters, or the only candidate `word` abbreviates); empty if none.
int edit_distance(const std::string& a, const std::string& b);
std::string closest(const std::string& word, const std::vector<std::string>& candidates);
// --threads N (0: all cores), checked.
CLI::Option* add_threads_option(CLI::App* c, int& threads);

// Texts read one per line (classify, tag, translate): TEXT arguments, --text FILE (checked to
// exist) or standard input, in that order; the arguments and --text exclude each other.
struct TextInputs {
  std::vector<std::string> literal;
  std::string file;
};
void add_text_inputs(CLI::App* c, TextInputs& t, const std::string& noun);  // "text", "source"
std::vector<std::string> read_text_inputs(const TextInputs& t, bool keep_empty);

// Each add_* registers a subcommand whose callback sets `run` to the work to do after parsing.
using Action = std::function<void()>;

void add_run_rnn(CLI::App& app, Action& run);
void add_train_lm(CLI::App& app, Action& run);
void add_ngram(CLI::App& app, Action& run);
void add_plot(CLI::App& app, Action& run);
void add_sample(CLI::App& app, Action& run);
void add_eval_lm(CLI::App& app, Action& run);
void add_data(CLI::App& app, Action& run);
void add_classifier(CLI::App& app, Action& run);  // train-classifier, eval-classifier, classify
void add_tagger(CLI::App& app, Action& run);      // train-tagger, eval-tagger, tag
void add_clm(CLI::App& app, Action& run);         // train-clm, sample-clm
void add_forecast(CLI::App& app, Action& run);    // train-forecaster, forecast
void add_seq2seq(CLI::App& app, Action& run);     // train-seq2seq, eval-seq2seq, translate
void add_bench_rnn(CLI::App& app, Action& run);
void add_esn(CLI::App& app, Action& run);  // esn, run-esn
void add_rtrl(CLI::App& app, Action& run);
void add_diagnose(CLI::App& app, Action& run);
void add_bench_tasks(CLI::App& app, Action& run);
void add_tree(CLI::App& app, Action& run);  // train-tree
void add_jordan(CLI::App& app, Action& run);
void add_run_onnx(CLI::App& app, Action& run);
void add_export_onnx(CLI::App& app, Action& run);
void add_serve(CLI::App& app, Action& run);

}  // namespace recur::cli
