// The verbs' registry and the CLI's one error line (command.h). Apart from main.cc so that
// what links the CLI library (the unit tests) has them without the program's main().
#include "cli/command.h"

#include <cstdio>

namespace leakscope::cli {

std::vector<Command>& commands() {
  static std::vector<Command> all;
  return all;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "leakscope: error: %s\n", message.c_str());
  return kExitError;
}

}  // namespace leakscope::cli
