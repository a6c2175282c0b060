// Every verb of the CLI is one file (cmd_<verb>.cc) that registers itself here at static-init
// time, so main.cc never changes when a verb is added. A verb's run() reads as a list of named
// steps and returns an exit code from ExitCode.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace leakscope::cli {

// Documented exit codes (README, "Exit codes").
enum ExitCode : int {
  kExitOk = 0,         // success; for run/watch: no leak
  kExitError = 1,      // an error: bad input, unreachable target, target died, I/O
  kExitUsage = 2,      // bad command line
  kExitLeakFound = 3,  // run/watch: a leak was found
};

struct Command {
  std::string name;
  std::string summary;
  // Adds the verb's options to `sub` and returns the function that runs it once parsed.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

std::vector<Command>& commands();

struct RegisterCommand {
  explicit RegisterCommand(Command c) { commands().push_back(std::move(c)); }
};

// Prints "leakscope: error: <message>" on stderr and returns kExitError.
int fail(const std::string& message);

}  // namespace leakscope::cli
