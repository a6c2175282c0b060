// leakscope: the command line. Verbs register themselves (command.h); this file only parses.
#include <cstdio>
#include <iostream>

#include "cli/command.h"

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

int main(int argc, char** argv) {
  using namespace leakscope::cli;
  CLI::App app{"leakscope: finds what leaks in a running service, where, and how fast"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "leakscope 0.1.0");
  std::function<int()> chosen;
  for (Command& c : commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    auto run = c.setup(*sub);
    sub->callback([&chosen, run] { chosen = run; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return chosen ? chosen() : kExitUsage;
}
