// Usage errors of the `recur` command line: the message a wrong command line gets, with a
// suggestion for the closest command or option (a typo, or a name this 0.x series renamed), and
// the parse-time checks shared by every command.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "commands.h"

namespace recur::cli {
namespace {

// Names removed by the 0.2 vocabulary (CHANGELOG.md), per command ("" for every command): the
// option that took over, or a note where nothing took over one for one.
struct Rename {
  const char* command;
  const char* old_name;
  const char* hint;
};

constexpr Rename kRenames[] = {
    {"run-rnn", "--weights", "--model"},
    {"run-rnn", "--output", "--out"},
    {"run-onnx", "--output", "--out"},
    {"esn", "--save", "--out"},
    {"esn", "--train", "--train-size"},
    {"esn", "--test", "--test-size"},
    {"jordan", "--train", "--train-size"},
    {"jordan", "--test", "--test-size"},
    {"jordan", "--updates", "--steps"},
    {"listops", "--train", "--train-size"},
    {"listops", "--valid", "--valid-size"},
    {"listops", "--test", "--test-size"},
    {"bench-rnn", "--steps", "--seq-len"},
    {"bench-rnn", "--input", "--input-size"},
    {"diagnose", "--steps", "--seq-len"},
    {"diagnose", "--input", "--input-size"},
    {"diagnose", "--text-file", "--text"},
    {"rtrl", "--steps", "--seq-lens"},
    {"rtrl", "--input", "--input-size"},
    {"rtrl", "--length", "--seq-len"},
    {"rtrl", "--window", "--log-every"},
    {"bench-tasks", "--lengths", "--seq-lens"},
    {"train-forecaster", "--inputs", "--input-columns"},
};

// Commands whose --text was a literal string before 0.2 and is a file now.
constexpr const char* kTextWasLiteral[] = {"classify", "tag", "translate", "diagnose"};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app.get_options())
    for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
  return names;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(s->get_name());
  return names;
}

// What to suggest for an unknown option `name` of `command`: its rename, or the closest option.
std::string suggest_option(const CLI::App& command, const std::string& name) {
  for (const Rename& r : kRenames)
    if (r.old_name == name && command.get_name() == r.command) return r.hint;
  return closest(name, option_names(command));
}

struct Scan {
  const CLI::App* command;  // the deepest (sub)command named on the line
  std::string path;         // "recur train-lm", "recur data listops"
  std::string hint;         // "did you mean ...?", or empty
};

// Walks argv as CLI11 does: subcommand names first, then options of the last one; stops at the
// first name that is unknown and says what it probably meant.
Scan scan(const CLI::App& app, int argc, const char* const* argv) {
  Scan s{&app, "recur", ""};
  int i = 1;
  while (i < argc && argv[i][0] != '-' && !subcommand_names(*s.command).empty()) {
    const std::string word = argv[i];
    const auto subs = subcommand_names(*s.command);
    if (std::find(subs.begin(), subs.end(), word) == subs.end()) {
      const std::string c = closest(word, subs);
      s.hint = "unknown command '" + word + "'" + (c.empty() ? "" : "; did you mean " + c + "?");
      return s;
    }
    s.command = s.command->get_subcommand(word);
    s.path += " " + word;
    ++i;
  }
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (!starts_with(arg, "--")) continue;
    const std::string name = arg.substr(0, arg.find('='));
    if (s.command->get_option_no_throw(name)) continue;
    const std::string c = suggest_option(*s.command, name);
    s.hint = "unknown option " + name + (c.empty() ? "" : "; did you mean " + c + "?");
    return s;
  }
  return s;
}

}  // namespace

int edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent transpositions.
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = int(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = int(j);
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  // Within two edits (one for short names, where two would match almost anything) ...
  const size_t letters = word.size() - std::min(word.find_first_not_of('-'), word.size());
  const int limit = letters <= 4 ? 1 : 2;
  std::string best;
  int best_d = limit + 1;
  for (const std::string& c : candidates) {
    const int d = edit_distance(word, c);
    if (d < best_d) best = c, best_d = d;
  }
  if (!best.empty()) return best;
  // ... or the one candidate that the word begins (an abbreviation: --temp for --temperature).
  std::string prefixed;
  for (const std::string& c : candidates)
    if (letters >= 3 && starts_with(c, word)) {
      if (!prefixed.empty()) return "";
      prefixed = c;
    }
  return prefixed;
}

std::string usage_message(const CLI::App& app, const CLI::ParseError& e, int argc,
                          const char* const* argv) {
  const Scan s = scan(app, argc, argv);
  // CLI11 says "A subcommand is required" for a misspelt one, and lists unknown options with
  // their values in reverse: the scan's own line says it better.
  const bool replace = !s.hint.empty() && (e.get_name() == "ExtrasError" ||
                                           starts_with(s.hint, "unknown command"));
  std::string msg = s.path + ": error: " + (replace ? s.hint : e.what());
  if (!s.hint.empty() && !replace) msg += "\n  " + s.hint;
  const std::string what = e.what();
  for (const char* c : kTextWasLiteral)
    if (s.command->get_name() == c && what.find("--text") != std::string::npos)
      msg += "\n  --text names a file (one text per line); give a text itself as an argument: " +
             s.path + " --model M \"some text\"";
  msg += "\n  see: " + s.path + " --help";
  return msg;
}

void check_usage(bool ok, const std::string& message) {
  if (!ok) throw CLI::ValidationError(message);
}

void add_shared_checks(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    add_shared_checks(*sub);
    // --threads comes from several places (train_options.cpp among them): every one is checked.
    if (CLI::Option* o = sub->get_option_no_throw("--threads")) {
      try {
        o->get_validator(Threads.get_name());
      } catch (const CLI::OptionNotFound&) {
        o->check(Threads);
      }
    }
  }
}

}  // namespace recur::cli
