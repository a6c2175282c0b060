// The descriptor table and the /proc link classification (see track_fds.h for the design).
// Nothing here touches agent state, so the unit tests compile this file alone.
#include "agent/trackers/track_fds.h"

#include <cstring>

namespace leakscope::agent {

namespace {

constexpr uint64_t kPresentBit = 1ull << 63;
constexpr uint64_t kAgentBit = 1ull << 62;
constexpr int kFlagsShift = 40;
constexpr int kKindShift = 32;

bool starts_with(const char* s, const char* prefix) {
  return std::strncmp(s, prefix, std::strlen(prefix)) == 0;
}

}  // namespace

const char* fd_kind_name(FdKind kind) {
  switch (kind) {
    case FdKind::kFile:
      return "file";
    case FdKind::kSocket:
      return "socket";
    case FdKind::kPipe:
      return "pipe";
    case FdKind::kEventfd:
      return "eventfd";
    case FdKind::kTimerfd:
      return "timerfd";
    case FdKind::kSignalfd:
      return "signalfd";
    case FdKind::kEpoll:
      return "epoll";
    case FdKind::kInotify:
      return "inotify";
    case FdKind::kMemfd:
      return "memfd";
    case FdKind::kOther:
      return "other";
    case FdKind::kUnknown:
      break;
  }
  return "unknown";
}

FdKind classify_fd_link(const char* link) {
  if (link == nullptr || *link == '\0') return FdKind::kUnknown;
  if (starts_with(link, "socket:")) return FdKind::kSocket;
  if (starts_with(link, "pipe:")) return FdKind::kPipe;
  if (starts_with(link, "/memfd:")) return FdKind::kMemfd;
  if (starts_with(link, "anon_inode:")) {
    const char* what = link + std::strlen("anon_inode:");
    if (*what == '[') ++what;
    if (starts_with(what, "eventfd")) return FdKind::kEventfd;
    if (starts_with(what, "timerfd")) return FdKind::kTimerfd;
    if (starts_with(what, "signalfd")) return FdKind::kSignalfd;
    if (starts_with(what, "eventpoll")) return FdKind::kEpoll;
    if (starts_with(what, "inotify")) return FdKind::kInotify;
    if (starts_with(what, "memfd")) return FdKind::kMemfd;  // memfd_secret and friends
    return FdKind::kOther;
  }
  if (*link == '/') return FdKind::kFile;
  return FdKind::kOther;  // "net:[...]", "mnt:[...]" (nsfs), unnamed kernel objects
}

bool fd_kinds_compatible(FdKind recorded, FdKind seen) {
  if (recorded == FdKind::kUnknown || seen == FdKind::kUnknown) return true;
  if (recorded == seen) return true;
  // open("/proc/self/fd/N") or open("/dev/...") of an anon object shows the object, and a memfd
  // reopened by path is a memfd: a path-opened descriptor may show any kind but a socket/pipe
  // is still tolerated (a fifo opened by path shows as a path, never "pipe:").
  return recorded == FdKind::kFile && seen != FdKind::kSocket;
}

uint64_t FdEntry::pack() const {
  if (!present) return 0;
  uint64_t w = kPresentBit;
  if (agent) w |= kAgentBit;
  w |= static_cast<uint64_t>(flags) << kFlagsShift;
  w |= static_cast<uint64_t>(kind) << kKindShift;
  w |= stack_id;
  return w;
}

FdEntry FdEntry::unpack(uint64_t word) {
  FdEntry e;
  if ((word & kPresentBit) == 0) return e;
  e.present = true;
  e.agent = (word & kAgentBit) != 0;
  e.flags = static_cast<uint8_t>(word >> kFlagsShift);
  e.kind = static_cast<FdKind>(static_cast<uint8_t>(word >> kKindShift));
  e.stack_id = static_cast<uint32_t>(word);
  return e;
}

bool FdTable::set(int fd, const FdEntry& entry) {
  if (fd < 0) return false;
  if (fd >= capacity_) {
    overflow_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  words_[fd].store(entry.pack(), std::memory_order_relaxed);
  int hw = high_water_.load(std::memory_order_relaxed);
  while (hw <= fd && !high_water_.compare_exchange_weak(hw, fd + 1, std::memory_order_relaxed)) {
  }
  return true;
}

void FdTable::clear(int fd) {
  if (fd >= 0 && fd < capacity_) words_[fd].store(0, std::memory_order_relaxed);
}

bool FdTable::clear_if(int fd, const FdEntry& seen) {
  if (fd < 0 || fd >= capacity_) return false;
  uint64_t expected = seen.pack();
  return words_[fd].compare_exchange_strong(expected, 0, std::memory_order_relaxed);
}

void FdTable::clear_range(unsigned first, unsigned last) {
  unsigned end = static_cast<unsigned>(high_water());
  if (last >= end) last = end == 0 ? 0 : end - 1;
  if (end == 0) return;
  for (unsigned fd = first; fd <= last; ++fd) words_[fd].store(0, std::memory_order_relaxed);
}

void FdTable::mark_cloexec_range(unsigned first, unsigned last) {
  unsigned end = static_cast<unsigned>(high_water());
  if (end == 0) return;
  if (last >= end) last = end - 1;
  for (unsigned fd = first; fd <= last; ++fd) {
    // A CAS, so a descriptor opened on this number meanwhile keeps its own entry.
    uint64_t w = words_[fd].load(std::memory_order_relaxed);
    while (w != 0 && !words_[fd].compare_exchange_weak(
                         w, w | (static_cast<uint64_t>(kFdCloexec) << kFlagsShift),
                         std::memory_order_relaxed)) {
    }
  }
}

FdEntry FdTable::get(int fd) const {
  if (fd < 0 || fd >= capacity_) return {};
  return FdEntry::unpack(words_[fd].load(std::memory_order_relaxed));
}

char parse_task_state(const char* stat_text) {
  // The name is in parentheses and may itself contain ") ": the state follows the LAST ')'.
  const char* close = std::strrchr(stat_text, ')');
  if (close == nullptr || close[1] != ' ' || close[2] == '\0') return '?';
  return close[2];
}

bool parse_sig_blocked(const char* status_text, uint64_t* mask) {
  const char* p = std::strstr(status_text, "\nSigBlk:");
  if (p == nullptr) return false;
  p += std::strlen("\nSigBlk:");
  while (*p == ' ' || *p == '\t') ++p;
  uint64_t v = 0;
  int digits = 0;
  for (;; ++p, ++digits) {
    char c = *p;
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      break;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  if (digits == 0) return false;
  *mask = v;
  return true;
}

}  // namespace leakscope::agent
