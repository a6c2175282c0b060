// leakscope: the command line. Verbs register themselves (command.h); this file only parses.
#include <cstdio>
#include <iostream>
#include <string_view>

#include "cli/command.h"

namespace leakscope::cli {

// `leakscope run ./svc -addr x`: the program's own options were read as leakscope's. Says where
// the `--` goes when a `run` command line has none.
void hint_double_dash(int argc, char** argv) {
  if (argc < 3 || std::string_view(argv[1]) != "run") return;
  for (int i = 2; i < argc; ++i)
    if (std::string_view(argv[i]) == "--") return;
  std::fprintf(stderr,
               "leakscope: hint: put -- before the program, so that its own options are not read "
               "as leakscope's: leakscope run [OPTIONS] -- PROGRAM [ARGS...]\n");
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
    if (rc != 0) hint_double_dash(argc, argv);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return chosen ? chosen() : kExitUsage;
}
