// Poisson byte sampling, tcmalloc style: each thread counts down the bytes it allocates from a
// distance drawn from an exponential distribution with mean `rate`; the allocation that takes
// the count to zero or below is sampled, and a new distance is drawn. Because the exponential
// is memoryless, an allocation of S bytes is sampled with probability exactly 1 - exp(-S/rate)
// whatever came before it, which is what Go's unbiasing formula (fast_math.h) assumes.
//
// The fast path (should_sample) is one TLS subtract and a branch; everything else is in the
// noinline slow path. Dormant mode (g_sampling false) costs one load and a branch before it.
// rate == 1 means "every allocation": the distance drawn is 0.
#pragma once

#include "agent/agent_internal.h"
#include "agent/fast_math.h"

namespace leakscope::agent {

extern int64_t g_rate __attribute__((visibility("hidden")));  // set once at init

inline uint64_t next_random(uint64_t& state) {  // xorshift64*
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545f4914f6cdd1dull;
}

// A fresh sampling distance: -ln(U) * rate, U uniform in (0, 1].
inline int64_t draw_distance(uint64_t& rng) {
  if (g_rate <= 1) return 0;
  double u = static_cast<double>((next_random(rng) >> 11) + 1) * (1.0 / 9007199254740992.0);
  double d = -fast_ln(u) * static_cast<double>(g_rate);
  return d > 4e18 ? int64_t{4000000000000000000} : static_cast<int64_t>(d) + 1;
}

LEAKSCOPE_HIDDEN void seed_thread_rng(ThreadState& t);

// Slow path shared by the heap and mmap countdowns: returns true if this allocation is sampled
// (false inside the agent, where the countdown is just redrawn).
__attribute__((noinline)) inline bool countdown_expired(int64_t& countdown, int64_t size) {
  ThreadState& t = t_state;
  if (t.rng == 0) {  // first slow path of this thread: start a distance, then count this one
    seed_thread_rng(t);
    countdown = draw_distance(t.rng) - size;
    if (countdown > 0) return false;
  }
  countdown = draw_distance(t.rng);
  return t.guard_depth == 0;
}

// The inline half of the decision, for hooks split in two (malloc_hooks.cc): true when this
// allocation is certainly not sampled (sampling off, or the countdown still positive after it).
// false: the countdown ran out; the hook's noinline half asks countdown_expired, which may still
// say no (the first draw of a thread, or a call from inside the agent).
inline bool heap_countdown_running(size_t size) {
  if (LEAKSCOPE_UNLIKELY(!g_sampling.load(std::memory_order_relaxed))) return true;
  int64_t& c = t_state.heap_countdown;
  c -= static_cast<int64_t>(size);
  return LEAKSCOPE_LIKELY(c > 0);
}

// The fast path: subtract and branch.
inline bool should_sample_heap(size_t size) {
  if (LEAKSCOPE_UNLIKELY(!g_sampling.load(std::memory_order_relaxed))) return false;
  int64_t& c = t_state.heap_countdown;
  c -= static_cast<int64_t>(size);
  if (LEAKSCOPE_LIKELY(c > 0)) return false;
  return countdown_expired(c, static_cast<int64_t>(size));
}

}  // namespace leakscope::agent
