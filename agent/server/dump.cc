// Dumps to a directory (LEAKSCOPE_DUMP_DIR), for hosts where no port may be opened: every round
// (each LEAKSCOPE_DUMP_INTERVAL seconds, or on LEAKSCOPE_DUMP_SIGNAL) writes one file per profile,
// DIR/<profile>.<pid>.<round>.pb.gz, written to a .tmp name and renamed, so a reader never sees
// half a file. The profiles are built on the agent thread; the file system work (writes,
// renames, retention) runs on a writer thread of its own, started with the first dump, so a hung
// file system (a stale NFS mount, a frozen volume) blocks the writer, never the debug server.
// One round is in flight at most. A round that comes due while the writer is still busy waits:
// it is marked pending and taken as soon as the writer ends its round (a program that raises
// the dump signal right after seeing a round's heap file gets its next round, even while the
// round's other files are being written). Rounds due while one is already pending are skipped
// (their files count as failures, logged once), so a stuck writer never piles up copies of the
// profiles. If the writer cannot be started, the agent thread writes, as before.
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
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <new>
#include <string>
#include <utility>

#include "agent/own_fds.h"
#include "agent/server/server_internal.h"

namespace leakscope::agent {

namespace {

constexpr const char* kProfiles[] = {"heap", "mmap", "threads", "fds"};
// O_NONBLOCK: a FIFO planted under the name fails (ENXIO) instead of blocking the agent thread;
// O_NOFOLLOW: a symlink planted there is not followed into some other file.
constexpr int kCreateFlags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW;

std::atomic<int64_t> g_failures{0};
bool g_failing = false;  // the last round failed (and said so); the writing thread only

// A round of profile bytes, handed from the agent thread to the writer.
struct Round {
  int64_t number = 0;
  std::string bytes[4];  // per kProfiles; "": the tracker is off, no file
};

// The hand-over, one slot:  agent thread: kFree -> fills g_slot -> kQueued, sem_post
//                           writer:       sem_wait -> writes -> clears g_slot -> kFree
enum : int { kFree = 0, kQueued };
std::atomic<int> g_slot_state{kFree};
// Owned by whoever the state says: the agent thread while kFree, else the writer. Built in place
// when the writer starts and never destroyed: exit()'s destructors must not free the bytes of a
// round the writer is still writing.
alignas(Round) unsigned char g_slot_storage[sizeof(Round)];
Round* g_slot = nullptr;
// A round came due while the writer was busy; the writer asks for it when it ends its round.
std::atomic<bool> g_pending{false};
sem_t g_work;
enum : int { kNotStarted = 0, kRunning, kUnavailable };
int g_writer = kNotStarted;  // agent thread only

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

void write_round(Round& r) {
  int64_t keep = config().dump_keep;
  if (keep > 0) remove_round(r.number - keep);  // first, so a full disk gets room for this round
  char path[1024], failed[1024] = {};
  int err = 0;
  for (size_t i = 0; i < std::size(kProfiles); ++i) {
    if (r.bytes[i].empty()) continue;
    dump_path(path, sizeof(path), kProfiles[i], r.number);
    int e = write_file(path, r.bytes[i]);
    if (e == 0) continue;
    g_failures.fetch_add(1, std::memory_order_relaxed);
    if (err == 0) snprintf(failed, sizeof(failed), "%s", path);
    err = e;
  }
  report(err == 0, failed, err);
}

void* writer_thread(void*) {
  ReentryGuard guard;  // nothing it does is sampled (it only frees and does file I/O)
  for (;;) {
    if (sem_wait(&g_work) != 0) continue;  // EINTR
    if (g_slot_state.load(std::memory_order_acquire) != kQueued) continue;
    write_round(*g_slot);
    *g_slot = Round{};  // frees the bytes here, not on the agent thread
    g_slot_state.store(kFree, std::memory_order_seq_cst);
    if (g_pending.exchange(false)) agent_request_dump();  // the round that waited
  }
}

// Starts the writer once; false if it cannot run (the agent thread then writes itself).
bool writer_ready() {
  if (g_writer == kNotStarted) {
    g_writer = kUnavailable;
    pthread_t thread;
    pthread_attr_t attr;
    // Created from the agent thread: it inherits its mask (every signal blocked) and is booked
    // as one of the agent's threads (never shown in /debug/pprof/threads).
    g_slot = new (g_slot_storage) Round;
    if (sem_init(&g_work, 0, 0) == 0 && pthread_attr_init(&attr) == 0) {
      pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      if (pthread_create(&thread, &attr, writer_thread, nullptr) == 0) {
        pthread_setname_np(thread, "leakscope-dump");
        g_writer = kRunning;
      }
      pthread_attr_destroy(&attr);
    }
    if (g_writer != kRunning) agent_log("cannot start the dump writer; the agent thread writes");
  }
  return g_writer == kRunning;
}

}  // namespace

void write_dump_files_or_throw() {
  if (config().dump_dir[0] == '\0') return;
  static int64_t round = 0;
  bool writer = writer_ready();
  if (writer && g_slot_state.load(std::memory_order_acquire) != kFree) {
    // Pending first, then the state again: a writer that ended in between either sees the flag
    // (and asks for the round) or left the slot free (and the round goes now).
    bool was_pending = g_pending.exchange(true);
    if (g_slot_state.load(std::memory_order_seq_cst) == kFree) {
      g_pending.store(false);
    } else if (!was_pending) {
      return;  // taken when the writer ends its round
    }
  }
  if (writer && g_slot_state.load(std::memory_order_acquire) != kFree) {
    static bool said = false;  // once: a hung file system stays hung
    if (!said) {
      agent_logf(
          "a dump into %s is still being written (is the file system hung?); rounds are "
          "skipped until it ends (said once)",
          config().dump_dir);
    }
    said = true;
    g_failures.fetch_add(std::size(kProfiles), std::memory_order_relaxed);
    return;
  }
  Round r;
  r.number = ++round;
  r.bytes[0] = heap_profile_bytes(false);
  r.bytes[1] = mmap_profile_bytes();
  r.bytes[2] = threads_dump_profile();
  r.bytes[3] = fds_dump_profile();
  if (!writer) {
    write_round(r);
    return;
  }
  *g_slot = std::move(r);
  g_slot_state.store(kQueued, std::memory_order_release);
  sem_post(&g_work);
}

void write_dump_files() {
  try {
    write_dump_files_or_throw();
  } catch (...) {  // the agent's own bad_alloc (AllocFailureThrows): this dump is skipped
    static bool said = false;  // once: with a dump interval it could fail every second
    if (!said) agent_log("out of memory while writing a dump; skipped (said once)");
    said = true;
  }
}

int64_t dump_failures_total() { return g_failures.load(std::memory_order_relaxed); }

}  // namespace leakscope::agent
