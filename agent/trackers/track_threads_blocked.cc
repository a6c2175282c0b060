// blocked_thread_stack(): ?debug=2's current stack of a blocked thread, without a signal.
//
// A signal to a thread blocked in nanosleep, clock_nanosleep, poll, epoll_wait, select or a futex
// wait with a timeout makes the call return EINTR, SA_RESTART or not (signal(7)): one EINTR per
// thread per page, which a host that does not retry turns into a bug (issue 18 counted 20,914
// in 60 s of requests). Most threads of a service are blocked, and a leaked thread nearly always
// is. For those, the kernel already holds the registers: /proc/self/task/TID/syscall gives the
// system call number, its arguments, the stack pointer and the pc. cfi_unwind.cc walks the stack
// from there, in our own address space, with fault-safe reads.
//
// The thread may wake up while we read (its call returns, it runs on, perhaps over the stack we
// are reading). So the file is read before and after the walk, and the stack is kept only if
// both readings are identical (number, arguments, sp and pc): a thread that woke and went back
// to the same call with the same arguments and stack pointer has, in practice, the same stack.
// Otherwise, and for a thread that runs ("running") or is blocked outside a system call ("-1
// ..."), the caller falls back to the signal (track_threads_signal.cc): a running thread gets no
// EINTR from it, as it is in no call.
#include "agent/trackers/track_threads_blocked.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "agent/stacks/cfi_unwind.h"

namespace leakscope::agent {

namespace {

bool read_syscall_file(pid_t tid, char* buf, size_t cap) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", static_cast<int>(tid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  return true;
}

// A thread that runs now is often about to block again (a loop around a short sleep): a few
// more looks, 100 us apart, before it gets the signal that would interrupt that next call.
constexpr int kAttempts = 4;

void pause_briefly() {
  timespec ts{0, 100 * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace

bool parse_syscall_regs(const char* text, SyscallRegs* out) {
  char* end = nullptr;
  long nr = std::strtol(text, &end, 10);
  if (end == text) return false;  // "running"
  uintptr_t values[8];
  int n = 0;
  for (const char* p = end; n < 8; ++n) {
    while (*p == ' ') ++p;
    if (*p == '\0' || *p == '\n') break;
    unsigned long long v = std::strtoull(p, &end, 16);  // "0x..." (strtoull skips the prefix)
    if (end == p) return false;
    values[n] = static_cast<uintptr_t>(v);
    p = end;
  }
  // "NR a1 a2 a3 a4 a5 a6 SP PC" in a call; "-1 SP PC" outside one.
  if (nr >= 0 ? n != 8 : n != 2) return false;
  out->nr = nr;
  out->sp = values[n - 2];
  out->pc = values[n - 1];
  return true;
}

int blocked_thread_stack(pid_t tid, uintptr_t* pcs, int max, const char** why) {
  if (!fault_safe_reads_work()) return -1;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) pause_briefly();
    char before[256], after[256];
    SyscallRegs regs;
    if (!read_syscall_file(tid, before, sizeof(before))) return -1;  // gone, or /proc refused
    if (!parse_syscall_regs(before, &regs)) continue;                // running
    if (regs.nr < 0 || regs.pc == 0) return -1;  // stopped, or in a fault: not in a call
    UnwindEnd end;
    int n = cfi_unwind(regs.pc, regs.sp, pcs, max, &end);
    if (n <= 0 || !read_syscall_file(tid, after, sizeof(after))) return -1;
    if (std::strcmp(before, after) != 0) continue;  // it moved while we read
    *why = unwind_end_text(end);
    return n;
  }
  return -1;
}

}  // namespace leakscope::agent
