// The sample budget's decision (sampler.h says what it is for and why the estimates stay
// unbiased): at the end of each window of kBudgetWindow heap samples, a thread compares the
// samples per second of its own CPU time with LEAKSCOPE_MAX_SAMPLES_PER_SEC and moves its heap
// rate by powers of two: up until it fits, down (while it would stay under half the budget)
// once allocation slows. CPU time, not wall time: the budget bounds the share of the thread's
// work spent on samples, which wall time would understate on a busy machine (a thread with an
// eighth of a core would be allowed eight times the samples per second of its work).
// Runs on the slow path only, on the thread's own state: nothing shared is written.
#include <time.h>

#include <cerrno>

#include "agent/heap/sampler.h"

namespace leakscope::agent {

int64_t g_max_samples_per_sec = 20000;
std::atomic<int32_t> g_budget_max_shift{0};

namespace {

// The thread's CPU time in ns, or -1 where the clock is refused (a sandbox): then no budget.
int64_t thread_cpu_ns() {
  int saved_errno = errno;
  struct timespec ts;
  int rc = clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  errno = saved_errno;
  if (rc != 0) return -1;
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

int32_t budget_shift(int32_t shift, int64_t elapsed_ns, int64_t budget) {
  if (budget <= 0 || elapsed_ns <= 0) return shift;  // no budget, or a clock that did not move
  double per_sec = static_cast<double>(kBudgetWindow) * 1e9 / static_cast<double>(elapsed_ns);
  double limit = static_cast<double>(budget);
  while (per_sec > limit && shift < kMaxHeapShift) {
    ++shift;
    per_sec /= 2;
  }
  while (shift > 0 && per_sec * 2 < limit / 2) {
    --shift;
    per_sec *= 2;
  }
  return shift;
}

void budget_window_end(CountdownRest& r) {
  int64_t now = thread_cpu_ns();
  int64_t start = r.window_start;
  r.window_start = now > 0 ? now : 0;
  r.window_samples = 0;
  if (start <= 0 || now <= 0) return;  // the first window only starts the clock
  int32_t shift = budget_shift(r.heap_shift, now - start, g_max_samples_per_sec);
  r.heap_shift = shift;
  // For the profile's comment: read on every window end, written only when a thread goes higher
  // than any before it (a handful of times in a process's life).
  int32_t seen = g_budget_max_shift.load(std::memory_order_relaxed);
  while (shift > seen && !g_budget_max_shift.compare_exchange_weak(seen, shift)) {
  }
}

}  // namespace leakscope::agent
