// Dumps to a directory (LEAKSCOPE_DUMP_DIR), for hosts where no port may be opened: every round
// (each LEAKSCOPE_DUMP_INTERVAL seconds, or on LEAKSCOPE_DUMP_SIGNAL) writes one file per profile,
// DIR/<profile>.<pid>.<round>.pb.gz, written to a .tmp name and renamed, so a reader never sees
// half a file. Runs on the agent thread.
//
// A dump must not become the host's problem (issue 18: an interval of one second filled a
// filesystem, then logged four lines a second forever):
//   - retention: after round N the files of round N - LEAKSCOPE_DUMP_KEEP are removed (default
//     10 rounds; 0 keeps every round). Only this process's own rounds are touched, by name;
//   - a failure (full or read-only filesystem, missing directory) is logged once, and once
//     more when a round succeeds again; dump_failures_total() counts them for /metrics;
//   - the file's descriptor is the agent's own (own_fds.h), so a program that closes it under
//     the agent never gets bytes written into a file of its own that took the number.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "agent/own_fds.h"
#include "agent/server/server_internal.h"

namespace leakscope::agent {

namespace {

constexpr const char* kProfiles[] = {"heap", "mmap", "threads", "fds"};
// O_NONBLOCK: a FIFO planted under the name fails (ENXIO) instead of blocking the agent thread;
// O_NOFOLLOW: a symlink planted there is not followed into some other file.
constexpr int kCreateFlags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW;

std::atomic<int64_t> g_failures{0};
bool g_failing = false;  // the last round failed (and said so); agent thread only

void dump_path(char* out, size_t cap, const char* name, int64_t round) {
  snprintf(out, cap, "%s/%s.%d.%04ld.pb.gz", config().dump_dir, name, static_cast<int>(getpid()),
           static_cast<long>(round));
}

// Writes bytes to path (through path.tmp); 0 on success, else an errno.
int write_file(const char* path, const std::string& bytes) {
  char tmp[1100];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  int fd = own_fd(open(tmp, kCreateFlags, 0600));
  if (fd < 0) return errno != 0 ? errno : EMFILE;
  size_t done = 0;
  int err = 0;
  while (done < bytes.size() && err == 0) {
    if (!own_fd_live(fd)) {
      err = EBADF;  // the program closed it: the number is not ours to write to
      break;
    }
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      err = errno;
    } else if (n == 0) {
      err = EIO;
    }
  }
  own_fd_close(fd);
  if (err == 0 && rename(tmp, path) != 0) err = errno;
  if (err != 0) unlink(tmp);
  return err;
}

void remove_round(int64_t round) {
  if (round <= 0) return;
  char path[1024];
  for (const char* name : kProfiles) {
    dump_path(path, sizeof(path), name, round);
    unlink(path);
  }
}

void report(bool ok, const char* path, int err) {
  if (!ok && !g_failing) {
    g_failing = true;
    agent_logf(
        "cannot write dump %s (errno %d); dumps go on being tried, and failures are not logged "
        "again until one succeeds",
        path, err);
  } else if (ok && g_failing) {
    g_failing = false;
    agent_logf("dumps are written into %s again", config().dump_dir);
  }
}

}  // namespace

void write_dump_files_or_throw();

void write_dump_files() {
  try {
    write_dump_files_or_throw();
  } catch (...) {  // the agent's own bad_alloc (AllocFailureThrows): this dump is skipped
    static bool said = false;  // once: with a dump interval it could fail every second
    if (!said) agent_log("out of memory while writing a dump; skipped (said once)");
    said = true;
  }
}

void write_dump_files_or_throw() {
  if (config().dump_dir[0] == '\0') return;
  static int64_t round = 0;
  ++round;
  struct Item {
    const char* name;
    std::string bytes;  // "": the tracker is off, no file
  } items[] = {{kProfiles[0], heap_profile_bytes(false)},
               {kProfiles[1], mmap_profile_bytes()},
               {kProfiles[2], threads_dump_profile()},
               {kProfiles[3], fds_dump_profile()}};
  int64_t keep = config().dump_keep;
  if (keep > 0) remove_round(round - keep);  // first, so a full disk gets room for this round
  char path[1024], failed[1024] = {};
  int err = 0;
  for (const Item& item : items) {
    if (item.bytes.empty()) continue;
    dump_path(path, sizeof(path), item.name, round);
    int e = write_file(path, item.bytes);
    if (e == 0) continue;
    g_failures.fetch_add(1, std::memory_order_relaxed);
    if (err == 0) snprintf(failed, sizeof(failed), "%s", path);
    err = e;
  }
  report(err == 0, failed, err);
}

int64_t dump_failures_total() { return g_failures.load(std::memory_order_relaxed); }

}  // namespace leakscope::agent
