// The descriptor hooks: every libc call that makes or closes a descriptor, interposed.
//
// One X-macro list declares them all: the fds group of the hook table (hook_table.h), resolved
// with dlsym(RTLD_NEXT) on first use. A creating hook calls the real function,
// then, on success, records (creation stack, kind, close-on-exec) in the table; the stack is
// captured only there, and usually comes from the per-thread site cache (track_fds_stack.cc).
// close() and fclose() clear the entry *before* the real call (the number is reusable the
// instant the kernel frees it). Calls made by the agent itself (in_agent()) are marked as the
// agent's and never reported. Before fds_init() (other libraries' constructors) nothing is
// recorded: such descriptors are "[unknown origin]" when served, like those opened by raw
// syscalls. glibc's _FORTIFY_SOURCE entry points (__open_2 ...) are hooked too: Debian builds
// its packages with fortification, and their open() calls land there.
#include <fcntl.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "agent/agent_api.h"
#include "agent/hooks/hook_table.h"
#include "agent/own_fds.h"
#include "agent/trackers/track_fds.h"

// glibc declares these only under _FORTIFY_SOURCE; the prototypes are glibc's.
extern "C" {
int __open_2(const char* path, int flags);
int __open64_2(const char* path, int flags);
int __openat_2(int dirfd, const char* path, int flags);
int __openat64_2(int dirfd, const char* path, int flags);
}

#define LEAKSCOPE_FD_EXPORT extern "C" __attribute__((visibility("default")))

// X(name, required). One per line (clang-format folds the list unreadably otherwise).
// clang-format off
#define LEAKSCOPE_FD_FUNCTIONS(X) \
  X(open, true) \
  X(open64, false) \
  X(openat, true) \
  X(openat64, false) \
  X(__open_2, false) \
  X(__open64_2, false) \
  X(__openat_2, false) \
  X(__openat64_2, false) \
  X(creat, true) \
  X(creat64, false) \
  X(socket, true) \
  X(accept, true) \
  X(accept4, false) \
  X(pipe, true) \
  X(pipe2, false) \
  X(dup, true) \
  X(dup2, true) \
  X(dup3, false) \
  X(fcntl, true) \
  X(fcntl64, false) \
  X(socketpair, true) \
  X(eventfd, false) \
  X(timerfd_create, false) \
  X(signalfd, false) \
  X(epoll_create, false) \
  X(epoll_create1, false) \
  X(inotify_init, false) \
  X(inotify_init1, false) \
  X(memfd_create, false) \
  X(fopen, true) \
  X(fopen64, false) \
  X(fdopen, true) \
  X(freopen, true) \
  X(freopen64, false) \
  X(fclose, true) \
  X(close, true) \
  X(close_range, false) \
  X(closefrom, false)
// clang-format on

namespace leakscope::agent {

namespace {

LEAKSCOPE_HOOK_GROUP(FdRealFunctions, LEAKSCOPE_FD_FUNCTIONS);

constinit LazyHookGroup<FdRealFunctions> g_fd_real("fds");
std::atomic<bool> g_fd_on{false};  // set by fds_init(); hooks record only when true

// Zeroed static storage: untouched pages cost no memory.
constinit std::atomic<uint64_t> g_words[kFdTableCapacity];
constinit FdTable g_table(g_words, kFdTableCapacity);

inline const FdRealFunctions& real() { return g_fd_real.get(); }

// Records a new descriptor made by the hook whose (return address, CFA) are given.
__attribute__((noinline)) void note_created(int fd, FdKind kind, uint8_t flags, uintptr_t ret,
                                            uintptr_t cfa) {
  FdEntry e;
  e.present = true;
  e.kind = kind;
  e.flags = flags;
  if (in_agent()) {
    e.agent = true;
  } else if (!g_fd_on.load(std::memory_order_relaxed)) {
    g_table.clear(fd);  // unknown origin; never leave a stale entry behind
    return;
  } else {
    e.stack_id = site_stack_id(ret, cfa);
  }
  g_table.set(fd, e);
}

inline FdKind kind_of(int fd) { return g_table.get(fd).kind; }

// The host is about to close (or dup over) [first, last]: the agent's own descriptors there are
// lost to it (own_fds.h). The agent's own calls are not the host's.
inline void host_closing(unsigned first, unsigned last) {
  if (!in_agent()) own_fds_closing(first, last);
}
inline bool needs_mode(int flags) {
  return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}
bool mode_has_e(const char* mode) { return mode != nullptr && std::strchr(mode, 'e') != nullptr; }

// fopen and fopen64: a FILE* over a new descriptor ('e' in the mode: close-on-exec).
void note_fopened(FILE* f, const char* mode, uintptr_t ret, uintptr_t cfa) {
  int fd = fileno(f);
  uint8_t flags = kFdStdio | (mode_has_e(mode) ? kFdCloexec : 0);
  if (fd >= 0) note_created(fd, FdKind::kFile, flags, ret, cfa);
}

}  // namespace

FdTable& fd_table() { return g_table; }

void fds_set_recording(bool on) { g_fd_on.store(on, std::memory_order_relaxed); }

bool fds_recording() { return g_fd_on.load(std::memory_order_relaxed); }

int64_t fd_table_bytes() { return static_cast<int64_t>(sizeof(g_words)); }

}  // namespace leakscope::agent

using leakscope::agent::FdKind;
using leakscope::agent::g_table;
using leakscope::agent::kFdCloexec;
using leakscope::agent::kFdStdio;
using leakscope::agent::note_created;
using leakscope::agent::real;

// Every hook passes its own return address and CFA: the site the descriptor is booked to.
#define LEAKSCOPE_SITE                                                                     \
  reinterpret_cast<uintptr_t>(__builtin_extract_return_addr(__builtin_return_address(0))), \
      reinterpret_cast<uintptr_t>(__builtin_dwarf_cfa())
#define LEAKSCOPE_NOTE(fd, kind, flags)                                 \
  do {                                                                  \
    if ((fd) >= 0) note_created((fd), (kind), (flags), LEAKSCOPE_SITE); \
  } while (0)
// Calls the real function, or fails with ENOSYS if libc has none (an optional symbol).
#define LEAKSCOPE_REAL(name, fail, ...) \
  (real().name ? real().name(__VA_ARGS__) : (errno = ENOSYS, (fail)))

#define LEAKSCOPE_OPEN_MODE(flags)           \
  mode_t mode = 0;                           \
  if (leakscope::agent::needs_mode(flags)) { \
    va_list ap;                              \
    va_start(ap, flags);                     \
    mode = va_arg(ap, mode_t);               \
    va_end(ap);                              \
  }

LEAKSCOPE_FD_EXPORT int open(const char* path, int flags, ...) {
  LEAKSCOPE_OPEN_MODE(flags);
  int fd = LEAKSCOPE_REAL(open, -1, path, flags, mode);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, (flags & O_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int open64(const char* path, int flags, ...) {
  LEAKSCOPE_OPEN_MODE(flags);
  int fd = LEAKSCOPE_REAL(open64, -1, path, flags, mode);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, (flags & O_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  LEAKSCOPE_OPEN_MODE(flags);
  int fd = LEAKSCOPE_REAL(openat, -1, dirfd, path, flags, mode);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, (flags & O_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  LEAKSCOPE_OPEN_MODE(flags);
  int fd = LEAKSCOPE_REAL(openat64, -1, dirfd, path, flags, mode);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, (flags & O_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int __open_2(const char* path, int flags) {
  int fd = LEAKSCOPE_REAL(__open_2, -1, path, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, (flags & O_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int __open64_2(const char* path, int flags) {
  int fd = LEAKSCOPE_REAL(__open64_2, -1, path, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, (flags & O_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  int fd = LEAKSCOPE_REAL(__openat_2, -1, dirfd, path, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, (flags & O_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  int fd = LEAKSCOPE_REAL(__openat64_2, -1, dirfd, path, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, (flags & O_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int creat(const char* path, mode_t mode) {
  int fd = LEAKSCOPE_REAL(creat, -1, path, mode);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int creat64(const char* path, mode_t mode) {
  int fd = LEAKSCOPE_REAL(creat64, -1, path, mode);
  LEAKSCOPE_NOTE(fd, FdKind::kFile, 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int socket(int domain, int type, int protocol) {
  int fd = LEAKSCOPE_REAL(socket, -1, domain, type, protocol);
  LEAKSCOPE_NOTE(fd, FdKind::kSocket, (type & SOCK_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int accept(int sockfd, sockaddr* addr, socklen_t* len) {
  int fd = LEAKSCOPE_REAL(accept, -1, sockfd, addr, len);
  LEAKSCOPE_NOTE(fd, FdKind::kSocket, 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int accept4(int sockfd, sockaddr* addr, socklen_t* len, int flags) {
  int fd = LEAKSCOPE_REAL(accept4, -1, sockfd, addr, len, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kSocket, (flags & SOCK_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int pipe(int fds[2]) {
  int rc = LEAKSCOPE_REAL(pipe, -1, fds);
  if (rc == 0) {
    LEAKSCOPE_NOTE(fds[0], FdKind::kPipe, 0);
    LEAKSCOPE_NOTE(fds[1], FdKind::kPipe, 0);
  }
  return rc;
}

LEAKSCOPE_FD_EXPORT int pipe2(int fds[2], int flags) {
  int rc = LEAKSCOPE_REAL(pipe2, -1, fds, flags);
  if (rc == 0) {
    uint8_t f = (flags & O_CLOEXEC) ? kFdCloexec : 0;
    LEAKSCOPE_NOTE(fds[0], FdKind::kPipe, f);
    LEAKSCOPE_NOTE(fds[1], FdKind::kPipe, f);
  }
  return rc;
}

LEAKSCOPE_FD_EXPORT int socketpair(int domain, int type, int protocol, int fds[2]) {
  int rc = LEAKSCOPE_REAL(socketpair, -1, domain, type, protocol, fds);
  if (rc == 0) {
    uint8_t f = (type & SOCK_CLOEXEC) ? kFdCloexec : 0;
    LEAKSCOPE_NOTE(fds[0], FdKind::kSocket, f);
    LEAKSCOPE_NOTE(fds[1], FdKind::kSocket, f);
  }
  return rc;
}

LEAKSCOPE_FD_EXPORT int dup(int old) {
  int fd = LEAKSCOPE_REAL(dup, -1, old);
  LEAKSCOPE_NOTE(fd, leakscope::agent::kind_of(old), 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int dup2(int old, int target) {
  if (old != target && target >= 0) leakscope::agent::host_closing(target, target);
  int fd = LEAKSCOPE_REAL(dup2, -1, old, target);
  if (fd >= 0 && old != target) LEAKSCOPE_NOTE(fd, leakscope::agent::kind_of(old), 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int dup3(int old, int target, int flags) {
  if (old != target && target >= 0) leakscope::agent::host_closing(target, target);
  int fd = LEAKSCOPE_REAL(dup3, -1, old, target, flags);
  LEAKSCOPE_NOTE(fd, leakscope::agent::kind_of(old), (flags & O_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

namespace {

// The shared body of fcntl and fcntl64: glibc reads the optional argument as a pointer-sized
// value, whatever the command, and so do we.
template <typename Fn>
inline int fcntl_body(Fn fn, int fd, int cmd, void* arg, uintptr_t ret, uintptr_t cfa) {
  int rc = fn ? fn(fd, cmd, arg) : (errno = ENOSYS, -1);
  if (rc < 0) return rc;
  if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
    note_created(rc, leakscope::agent::kind_of(fd), cmd == F_DUPFD_CLOEXEC ? kFdCloexec : 0, ret,
                 cfa);
  } else if (cmd == F_SETFD) {
    auto e = g_table.get(fd);
    if (e.present) {
      bool on = (reinterpret_cast<uintptr_t>(arg) & FD_CLOEXEC) != 0;
      e.flags = on ? (e.flags | kFdCloexec) : (e.flags & ~kFdCloexec);
      g_table.set(fd, e);
    }
  }
  return rc;
}

}  // namespace

LEAKSCOPE_FD_EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl_body(real().fcntl, fd, cmd, arg, LEAKSCOPE_SITE);
}

LEAKSCOPE_FD_EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl_body(real().fcntl64, fd, cmd, arg, LEAKSCOPE_SITE);
}

LEAKSCOPE_FD_EXPORT int eventfd(unsigned int count, int flags) {
  int fd = LEAKSCOPE_REAL(eventfd, -1, count, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kEventfd, (flags & EFD_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int timerfd_create(int clock, int flags) {
  int fd = LEAKSCOPE_REAL(timerfd_create, -1, clock, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kTimerfd, (flags & TFD_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int signalfd(int fd, const sigset_t* mask, int flags) {
  int rc = LEAKSCOPE_REAL(signalfd, -1, fd, mask, flags);
  // signalfd(existing, ...) only changes the mask of an existing descriptor.
  if (fd == -1) LEAKSCOPE_NOTE(rc, FdKind::kSignalfd, (flags & SFD_CLOEXEC) ? kFdCloexec : 0);
  return rc;
}

LEAKSCOPE_FD_EXPORT int epoll_create(int size) {
  int fd = LEAKSCOPE_REAL(epoll_create, -1, size);
  LEAKSCOPE_NOTE(fd, FdKind::kEpoll, 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int epoll_create1(int flags) {
  int fd = LEAKSCOPE_REAL(epoll_create1, -1, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kEpoll, (flags & EPOLL_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int inotify_init() {
  int fd = LEAKSCOPE_REAL(inotify_init, -1);
  LEAKSCOPE_NOTE(fd, FdKind::kInotify, 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int inotify_init1(int flags) {
  int fd = LEAKSCOPE_REAL(inotify_init1, -1, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kInotify, (flags & IN_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT int memfd_create(const char* name, unsigned int flags) {
  int fd = LEAKSCOPE_REAL(memfd_create, -1, name, flags);
  LEAKSCOPE_NOTE(fd, FdKind::kMemfd, (flags & MFD_CLOEXEC) ? kFdCloexec : 0);
  return fd;
}

LEAKSCOPE_FD_EXPORT FILE* fopen(const char* path, const char* mode) {
  FILE* f = LEAKSCOPE_REAL(fopen, nullptr, path, mode);
  if (f != nullptr) leakscope::agent::note_fopened(f, mode, LEAKSCOPE_SITE);
  return f;
}

LEAKSCOPE_FD_EXPORT FILE* fopen64(const char* path, const char* mode) {
  FILE* f = LEAKSCOPE_REAL(fopen64, nullptr, path, mode);
  if (f != nullptr) leakscope::agent::note_fopened(f, mode, LEAKSCOPE_SITE);
  return f;
}

LEAKSCOPE_FD_EXPORT FILE* fdopen(int fd, const char* mode) {
  FILE* f = LEAKSCOPE_REAL(fdopen, nullptr, fd, mode);
  if (f != nullptr) {  // no new descriptor: the entry now belongs to a FILE*
    auto e = g_table.get(fd);
    if (e.present) {
      e.flags |= kFdStdio;
      g_table.set(fd, e);
    }
  }
  return f;
}

LEAKSCOPE_FD_EXPORT FILE* freopen(const char* path, const char* mode, FILE* stream) {
  if (stream != nullptr) g_table.clear(fileno(stream));
  FILE* f = LEAKSCOPE_REAL(freopen, nullptr, path, mode, stream);
  if (f != nullptr) LEAKSCOPE_NOTE(fileno(f), FdKind::kFile, kFdStdio);
  return f;
}

LEAKSCOPE_FD_EXPORT FILE* freopen64(const char* path, const char* mode, FILE* stream) {
  if (stream != nullptr) g_table.clear(fileno(stream));
  FILE* f = LEAKSCOPE_REAL(freopen64, nullptr, path, mode, stream);
  if (f != nullptr) LEAKSCOPE_NOTE(fileno(f), FdKind::kFile, kFdStdio);
  return f;
}

LEAKSCOPE_FD_EXPORT int fclose(FILE* stream) {
  if (stream != nullptr && fileno(stream) >= 0) {
    leakscope::agent::host_closing(fileno(stream), fileno(stream));
    g_table.clear(fileno(stream));
  }
  return LEAKSCOPE_REAL(fclose, EOF, stream);
}

LEAKSCOPE_FD_EXPORT int close(int fd) {
  if (fd >= 0) leakscope::agent::host_closing(fd, fd);
  g_table.clear(fd);
  return LEAKSCOPE_REAL(close, -1, fd);
}

LEAKSCOPE_FD_EXPORT int close_range(unsigned int first, unsigned int last, int flags) {
  if ((flags & CLOSE_RANGE_CLOEXEC) == 0) {
    leakscope::agent::host_closing(first, last);
    g_table.clear_range(first, last);
  }
  int rc = LEAKSCOPE_REAL(close_range, -1, first, last, flags);
  if (rc == 0 && (flags & CLOSE_RANGE_CLOEXEC) != 0) g_table.mark_cloexec_range(first, last);
  return rc;
}

// glibc's closefrom() closes through its internal close_range, which no hook sees.
LEAKSCOPE_FD_EXPORT void closefrom(int first) {
  if (first < 0) first = 0;
  leakscope::agent::host_closing(first, ~0U);
  g_table.clear_range(first, ~0U);
  if (real().closefrom) real().closefrom(first);
}
