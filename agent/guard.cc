// The per-thread re-entrancy guard, the TLS block it lives in, and the agent's logging.
//
// Every hook first asks in_agent(): when the thread is already inside the agent (building a
// profile, interning a stack, or inside a real allocator call the agent made), the hook passes
// the call straight through and records nothing. That single rule keeps the agent's own
// allocations out of the profiles and makes recursion impossible. The guard depth is a plain
// TLS int: signal handlers that allocate on this thread see it too, so an allocation inside a
// handler that interrupted the agent passes through instead of re-entering a table.
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "agent/agent_internal.h"

namespace leakscope::agent {

constinit thread_local ThreadState t_state __attribute__((tls_model("initial-exec"))) = {};

bool in_agent() { return t_state.guard_depth > 0; }

ReentryGuard::ReentryGuard() { ++t_state.guard_depth; }
ReentryGuard::~ReentryGuard() { --t_state.guard_depth; }

void SpinLock::pause() {
  // A short spin, then give the CPU away: the holder may be preempted on a 2-core box.
  static constexpr int kSpins = 64;
  for (int i = 0; i < kSpins; ++i) __builtin_ia32_pause();
  sched_yield();
}

namespace {
std::atomic<int64_t> g_mapped_bytes{0};  // sum of the sizes agent_map() returned
}  // namespace

void* agent_map(size_t bytes) {
  // The raw system call: the agent's own tables must not pass through its mmap hook.
  long p = syscall(SYS_mmap, nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p < 0 && p > -4096) return nullptr;
  g_mapped_bytes.fetch_add(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  return reinterpret_cast<void*>(p);
}

int64_t agent_mapped_bytes() { return g_mapped_bytes.load(std::memory_order_relaxed); }

namespace {

void write_all(const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(2, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

// Appends to buf[pos..cap) and returns the new position (truncates silently).
size_t append(char* buf, size_t pos, size_t cap, const char* s) {
  while (*s && pos + 1 < cap) buf[pos++] = *s++;
  return pos;
}

size_t append_number(char* buf, size_t pos, size_t cap, unsigned long v, int base, bool neg) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v != 0);
  if (neg && pos + 1 < cap) buf[pos++] = '-';
  while (n > 0 && pos + 1 < cap) buf[pos++] = digits[--n];
  return pos;
}

}  // namespace

void agent_log(const char* message) {
  char buf[512];
  size_t pos = append(buf, 0, sizeof(buf), "leakscope: ");
  pos = append(buf, pos, sizeof(buf), message);
  buf[pos++] = '\n';
  write_all(buf, pos);
}

void agent_logf(const char* fmt, ...) {
  char buf[512];
  size_t pos = 0;
  va_list ap;
  va_start(ap, fmt);
  for (const char* f = fmt; *f && pos + 1 < sizeof(buf); ++f) {
    if (*f != '%') {
      buf[pos++] = *f;
      continue;
    }
    ++f;
    bool is_long = false;
    if (*f == 'l') {
      is_long = true;
      ++f;
    }
    if (*f == 's') {
      const char* s = va_arg(ap, const char*);
      pos = append(buf, pos, sizeof(buf), s ? s : "(null)");
    } else if (*f == 'd') {
      long v = is_long ? va_arg(ap, long) : va_arg(ap, int);
      pos = append_number(buf, pos, sizeof(buf), v < 0 ? -static_cast<unsigned long>(v) : v, 10,
                          v < 0);
    } else if (*f == 'u' || *f == 'x') {
      unsigned long v = is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
      pos = append_number(buf, pos, sizeof(buf), v, *f == 'x' ? 16 : 10, false);
    } else if (*f == '\0') {
      break;
    }
  }
  va_end(ap);
  buf[pos] = '\0';
  agent_log(buf);
}

}  // namespace leakscope::agent
