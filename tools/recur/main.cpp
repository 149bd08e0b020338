// recur: the command-line tool. The subcommands are in tools/recur/cmd_*.cpp, wired in app.cpp.
#include "commands.h"

int main(int argc, char** argv) { return recur::cli::run_command_line(argc, argv); }
