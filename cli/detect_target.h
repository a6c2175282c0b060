// The processes `leakscope run` starts: the target (in its own process group, so that its helper
// children stop with it; its output goes to a log file so leakscope's stdout stays clean for
// --json) and the load command (through /bin/sh -c, also in its own group). Exits are collected
// without blocking, so the sampling loop can notice a crash within one poll.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace leakscope::cli {

class Child {
 public:
  // Starts argv (PATH search) with `env` added to the environment, stdout and stderr appended to
  // `log_path`. Errors when exec fails (reported by the child through a close-on-exec pipe).
  static Result<Child> spawn(const std::vector<std::string>& argv,
                             const std::vector<std::pair<std::string, std::string>>& env,
                             const std::string& log_path);
  Child() = default;
  Child(Child&& other) noexcept { *this = std::move(other); }
  Child& operator=(Child&& other) noexcept;
  ~Child();  // stops the process group if still running

  pid_t pid() const { return pid_; }
  // Collects the exit without blocking; true once the process has exited.
  bool exited();
  // "exited with status 3", "was killed by signal 11 (Segmentation fault)"; empty if running.
  std::string how_it_ended() const;
  int exit_code() const { return code_; }
  // SIGTERM to the group, up to `grace_s` to exit, then SIGKILL; collects the exit.
  void stop(double grace_s = 5);

 private:
  pid_t pid_ = -1;
  bool done_ = false;
  int status_ = 0;
  int code_ = 0;
};

// The directory of the running executable (/proc/self/exe), for finding libleakscope.so.
std::string self_dir();

}  // namespace leakscope::cli
