// Which process is the target: the one that samples, serves, announces and dumps.
//
// Why (issue 18, item 5): `LD_PRELOAD=libleakscope.so timeout 60 ./svc` (or nohup, tini,
// dumb-init, `sh -c 'exec ./svc'`) loads the agent into the wrapper first. Before, the wrapper
// served and stripped the agent from what it started, so the service ran unprofiled with nothing
// said. And a shell that starts several programs passed the agent to each: every one tried to
// bind the same port, or with port 0 overwrote the announce file with addresses that died.
//
// The rule:
//   * LEAKSCOPE_TARGET set: a glob (fnmatch) on the executable's file name or its full path
//     (/proc/self/exe). A process that does not match is passive and passes the agent on.
//   * unset: every program is a candidate except the known wrappers and shells below (they only
//     start the program that matters): those are passive and pass the agent on.
//   * Among candidates, one process per tree is the target: the first passive ancestor puts a
//     key in the environment (LEAKSCOPE_CLAIM) that its descendants inherit, and a candidate
//     becomes the target by binding an abstract unix socket named after that key (released by
//     the kernel when the target ends). So of two services a shell starts at once, the first
//     serves and the second stays passive; of two it starts one after the other, each serves in
//     turn (the announce file names the one that is alive).
//   * The target strips the agent from LD_PRELOAD for the programs it starts (unless
//     LEAKSCOPE_INHERIT=1), as before; a passive process keeps it there.
// A passive process samples nothing, tracks nothing, serves nothing, installs no signal; its
// hooks pass every call through.
//
// Limits: setuid programs (sudo, su) never load an LD_PRELOAD library, and sudo clears
// LD_PRELOAD by default: put the agent after them (`sudo -u u env LD_PRELOAD=... ./svc`).
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "agent/agent_internal.h"

namespace leakscope::agent {

namespace {

// Programs that start the program that matters (exec it, or fork and wait): they are never the
// target unless LEAKSCOPE_TARGET names them.
constexpr const char* kWrappers[] = {
    // shells
    "sh", "dash", "bash", "zsh", "ksh", "mksh", "ash", "busybox", "fish", "tcsh", "csh",
    // process wrappers and init shims
    "timeout", "nohup", "env", "nice", "ionice", "chrt", "taskset", "stdbuf", "setsid", "time",
    "tini", "tini-static", "dumb-init", "catatonit", "gosu", "su-exec", "setpriv", "runuser",
    "chpst", "flock", "chroot", "unshare", "nsenter", "setarch", "linux32", "linux64", "numactl",
    "prlimit", "xargs", "daemonize", "start-stop-daemon", "s6-setuidgid", "ld-linux-x86-64.so.2"};

bool is_wrapper(const char* base) {
  for (const char* w : kWrappers) {
    if (std::strcmp(base, w) == 0) return true;
  }
  return false;
}

// The executable's full path (readlink of /proc/self/exe); "" if unreadable.
void executable_path(char* out, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", out, cap - 1);
  out[n > 0 ? n : 0] = '\0';
  // A deleted or replaced executable reads as "PATH (deleted)".
  size_t len = std::strlen(out);
  constexpr const char kDeleted[] = " (deleted)";
  if (len > sizeof(kDeleted) - 1 &&
      std::strcmp(out + len - (sizeof(kDeleted) - 1), kDeleted) == 0) {
    out[len - (sizeof(kDeleted) - 1)] = '\0';
  }
}

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

// Puts a fresh claim key in the environment for the descendants of a passive process.
void ensure_claim_key() {
  if (getenv("LEAKSCOPE_CLAIM") != nullptr) return;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  char key[64];
  std::snprintf(key, sizeof(key), "%d.%ld%09ld", static_cast<int>(getpid()),
                static_cast<long>(ts.tv_sec), static_cast<long>(ts.tv_nsec));
  setenv("LEAKSCOPE_CLAIM", key, 1);
}

int g_claim_fd = -1;  // held for the process's life (close-on-exec; high number)

// True if this process may be the target of its tree: no key (nobody passive above it, so no
// sibling shares its environment), or it bound the key's socket first.
bool claim() {
  const char* key = getenv("LEAKSCOPE_CLAIM");
  if (key == nullptr || *key == '\0') return true;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // cannot tell: fail open, as before this rule
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  int len = std::snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "leakscope-target-%d-%s",
                          static_cast<int>(getuid()), key);
  if (len < 0 || len >= static_cast<int>(sizeof(addr.sun_path)) - 1)
    len = sizeof(addr.sun_path) - 2;
  socklen_t size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + len);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), size) != 0) {
    close(fd);
    return false;  // another process of this tree is the target
  }
  // Out of the way of hosts that close or reuse low descriptor numbers.
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 512);
  if (high >= 0) {
    close(fd);
    fd = high;
  }
  g_claim_fd = fd;
  return true;
}

}  // namespace

bool decide_target(const Config& config) {
  char exe[512];
  executable_path(exe, sizeof(exe));
  const char* base = base_name(exe);
  bool candidate;
  if (config.target[0] != '\0') {
    candidate = exe[0] != '\0' &&
                (fnmatch(config.target, base, 0) == 0 || fnmatch(config.target, exe, 0) == 0);
  } else {
    candidate = exe[0] == '\0' || !is_wrapper(base);
  }
  if (candidate && claim()) return true;
  ensure_claim_key();
  return false;
}

}  // namespace leakscope::agent
