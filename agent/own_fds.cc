// The agent's own descriptors: see own_fds.h for why and how.
#include "agent/own_fds.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "agent/agent_internal.h"

namespace leakscope::agent {

namespace {

constexpr int kSlots = 64;
constexpr int kLost = 1 << 30;  // above any descriptor number (the kernel caps them at 2^30)
constexpr int kPreferredBase = 1024;
constexpr int kHeadroom = 48;  // numbers kept under a low soft limit for the agent

// Registered slots: 0 free, else fd + 1 (so that zeroed static storage is "all free" before any
// constructor runs), with kLost set once the host closed it. g_low is the lowest number ever
// registered and g_high the highest: the close hooks' fast exit (both only ever widen).
constinit std::atomic<int> g_slots[kSlots] = {};
struct Identity {
  dev_t dev;
  ino_t ino;
};
Identity g_identity[kSlots];  // written and read by the registering thread only
std::atomic<int> g_low{INT32_MAX};
std::atomic<int> g_high{-1};
std::atomic<int64_t> g_lost_total{0};
std::atomic<int> g_base{-1};

int fd_of(int word) { return (word & ~kLost) - 1; }

int slot_of(int fd) {
  for (int i = 0; i < kSlots; ++i) {
    int w = g_slots[i].load(std::memory_order_acquire);
    if (w != 0 && fd_of(w) == fd) return i;
  }
  return -1;
}

int compute_base() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  rlim_t soft = lim.rlim_cur;
  if (soft == RLIM_INFINITY || soft >= static_cast<rlim_t>(kPreferredBase + kHeadroom)) {
    return kPreferredBase;
  }
  if (soft >= 4 * kHeadroom) return static_cast<int>(soft) - kHeadroom;
  return 0;  // a tiny limit: keep the lowest free numbers rather than fight the host for them
}

}  // namespace

int own_fd_base() {
  int base = g_base.load(std::memory_order_relaxed);
  if (base < 0) {
    base = compute_base();
    g_base.store(base, std::memory_order_relaxed);
  }
  return base;
}

// Widens [g_low, g_high] to cover fd, before fd is published in a slot: a close hook that sees
// the slot also sees a range that covers it.
static void widen_range(int fd) {
  int low = g_low.load(std::memory_order_relaxed);
  while (fd < low && !g_low.compare_exchange_weak(low, fd, std::memory_order_acq_rel)) {
  }
  int high = g_high.load(std::memory_order_relaxed);
  while (fd > high && !g_high.compare_exchange_weak(high, fd, std::memory_order_acq_rel)) {
  }
}

int own_fd(int fd) {
  if (fd < 0) return -1;
  ReentryGuard guard;  // the agent's own fcntl/close: never booked to the host
  int saved = errno;
  int base = own_fd_base();
  if (base > 0 && fd < base) {
    int high = fcntl(fd, F_DUPFD_CLOEXEC, base);
    if (high >= 0) {
      close(fd);
      fd = high;
    }
  }
  struct stat st {};
  fstat(fd, &st);
  widen_range(fd);
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_slots[i].compare_exchange_strong(expected, fd + 1, std::memory_order_acq_rel)) {
      g_identity[i] = {st.st_dev, st.st_ino};
      errno = saved;
      return fd;
    }
  }
  close(fd);
  errno = saved;
  return -1;
}

bool own_fd_ok(int fd) {
  if (fd < 0) return false;
  int i = slot_of(fd);
  if (i < 0 || (g_slots[i].load(std::memory_order_acquire) & kLost) != 0) return false;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_dev != g_identity[i].dev || st.st_ino != g_identity[i].ino) {
    // Closed by a raw system call (no hook saw it), maybe reused: not ours any more.
    if ((g_slots[i].fetch_or(kLost, std::memory_order_acq_rel) & kLost) == 0) {
      g_lost_total.fetch_add(1, std::memory_order_relaxed);
    }
    return false;
  }
  return true;
}

bool own_fd_live(int fd) {
  if (fd < 0) return false;
  int i = slot_of(fd);
  return i >= 0 && (g_slots[i].load(std::memory_order_acquire) & kLost) == 0;
}

void own_fd_close(int fd) {
  if (fd < 0) return;
  int i = slot_of(fd);
  if (i < 0) return;
  int old = g_slots[i].exchange(0, std::memory_order_acq_rel);
  if ((old & kLost) == 0) {
    ReentryGuard guard;
    int saved = errno;
    close(fd);
    errno = saved;
  }
}

void own_fds_close_all() {
  for (int i = 0; i < kSlots; ++i) {
    int w = g_slots[i].load(std::memory_order_acquire);
    if (w != 0) own_fd_close(fd_of(w));
  }
}

void own_fds_closing(unsigned first, unsigned last) {
  int low = g_low.load(std::memory_order_acquire);
  if (last < static_cast<unsigned>(low)) return;
  int high = g_high.load(std::memory_order_acquire);
  if (high < 0 || first > static_cast<unsigned>(high)) return;
  bool hit = false;
  for (int i = 0; i < kSlots; ++i) {
    int w = g_slots[i].load(std::memory_order_acquire);
    if (w == 0 || (w & kLost) != 0) continue;
    unsigned fd = static_cast<unsigned>(fd_of(w));
    if (fd < first || fd > last) continue;
    if (g_slots[i].compare_exchange_strong(w, w | kLost, std::memory_order_acq_rel)) {
      g_lost_total.fetch_add(1, std::memory_order_relaxed);
      hit = true;
    }
  }
  if (hit) server_wake();
}

int64_t own_fds_lost_total() { return g_lost_total.load(std::memory_order_relaxed); }

}  // namespace leakscope::agent
