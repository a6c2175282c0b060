// See spawn_backend.h.
#include "examples/leaky-service/spawn_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

std::vector<char*> backend_environment() {
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    if (var.starts_with("LD_PRELOAD=") || var.starts_with("LEAKSCOPE_")) continue;
    env.push_back(*e);
  }
  env.push_back(nullptr);
  return env;
}

// Reads lines from fd until one announces the port, or 10 s pass. Returns the port or 0.
int read_announced_port(int fd) {
  constexpr std::string_view kPrefix = "backend listening on 127.0.0.1:";
  std::string text;
  char buf[256];
  for (int waited_ms = 0; waited_ms < 10000;) {
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, 100);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) {
      waited_ms += 100;
      continue;
    }
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return 0;  // the child closed stdout or died
    text.append(buf, static_cast<size_t>(n));
    if (auto at = text.find(kPrefix); at != std::string::npos) {
      auto end = text.find('\n', at);
      if (end == std::string::npos) continue;
      return std::atoi(text.c_str() + at + kPrefix.size());
    }
  }
  return 0;
}

}  // namespace

BackendProcess spawn_backend(const std::string& binary, std::string* error) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return {};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  std::string parent = std::to_string(::getpid());
  std::vector<char*> argv = {const_cast<char*>(binary.c_str()),
                             const_cast<char*>("--port"),
                             const_cast<char*>("0"),
                             const_cast<char*>("--parent"),
                             parent.data(),
                             nullptr};
  auto env = backend_environment();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    *error = "starting " + binary + ": " + std::strerror(rc);
    return {};
  }
  int port = read_announced_port(pipe_fds[0]);
  ::close(pipe_fds[0]);
  if (port <= 0) {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    *error = binary + " did not announce its port";
    return {};
  }
  return {pid, port};
}
