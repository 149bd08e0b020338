// The texts a command reads one per line (classify, tag, translate): the TEXT arguments
// themselves, the lines of --text FILE, or else the lines of standard input.
#include <fstream>
#include <iostream>

#include "commands.h"
#include "recur/core/error.h"

namespace recur::cli {

void add_text_inputs(CLI::App* c, TextInputs& t, const std::string& noun) {
  auto* literal = c->add_option("text", t.literal,
                                "The " + noun + "s themselves, one per argument (quote one with "
                                "spaces)")
                      ->type_name("TEXT");
  auto* file = c->add_option("--text", t.file, "Read the " + noun + "s from this file, one per line")
                   ->type_name("FILE")
                   ->check(CLI::ExistingFile);
  literal->excludes(file);
}

std::vector<std::string> read_text_inputs(const TextInputs& t, bool keep_empty) {
  if (!t.literal.empty()) return t.literal;
  std::vector<std::string> lines;
  auto read = [&](std::istream& in) {
    for (std::string line; std::getline(in, line);)
      if (keep_empty || !line.empty()) lines.push_back(line);
  };
  if (t.file.empty()) {
    read(std::cin);
  } else {
    std::ifstream in(t.file, std::ios::binary);
    RECUR_CHECK(in, "cannot read '" << t.file << "'");
    read(in);
  }
  return lines;
}

}  // namespace recur::cli
