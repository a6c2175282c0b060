// Poisson byte sampling, tcmalloc style: each thread counts down the bytes it allocates from a
// distance drawn from an exponential distribution with mean `rate`; the allocation that takes
// the count to zero or below is sampled, and a new distance is drawn. Because the exponential
// is memoryless, an allocation of S bytes is sampled with probability exactly 1 - exp(-S/rate)
// whatever came before it, which is what Go's unbiasing formula (fast_math.h) assumes.
//
// The fast path (should_sample) is one TLS subtract and a branch; everything else is in the
// noinline slow path. Dormant mode (g_sampling false) costs one load and a branch before it.
// rate == 1 means "every allocation": the distance drawn is 0.
//
// An allocation of `rate` bytes or more is always sampled, with weight 1, and does not use up the
// distance (it is given back): the distance then runs over the smaller allocations alone, which
// keeps their sampling a Poisson process and their weights unbiased, while the large ones, few and
// costly anyway, are counted exactly. So that they reach the slow path at all, a countdown holds
// at most `rate` bytes of its distance and keeps the rest aside (CountdownRest): a small
// allocation that runs out a countdown with a rest behind it only reloads it, about once per
// `rate` bytes, as often as a sample. Go's rule samples them with probability 1 - exp(-S/rate)
// only (0.86 for S = 2 x rate), so a program keeping eight 1 MiB blocks was estimated anywhere
// from 5.8 to 9.2 MiB at the default rate; now it is 8 MiB.
#pragma once

#include "agent/agent_internal.h"
#include "agent/heap/fast_math.h"

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

// The part of each countdown's distance beyond `rate`: a countdown never holds more than `rate`,
// so an allocation of `rate` bytes or more always reaches the slow path, where it is sampled.
// Only the slow path reads or writes these (heap_books.cc defines them).
struct CountdownRest {
  int64_t heap;
  int64_t mmap;
};
extern thread_local constinit CountdownRest t_rest __attribute__((tls_model("initial-exec")));

// Loads a distance still to run into a countdown: at most `rate` in it, the rest aside.
inline void load_distance(int64_t& countdown, int64_t& rest, int64_t distance) {
  countdown = g_rate > 1 && distance > g_rate ? g_rate : distance;
  rest = distance - countdown;
}

// Slow path shared by the heap and mmap countdowns, taken when the countdown ran out: returns
// true if this allocation is sampled (false inside the agent, where the distance just runs on).
// The distance left before this allocation is the countdown (before it was lowered by `size`)
// plus its rest. An allocation of `rate` bytes or more is sampled and gives its bytes back; a
// smaller one uses them up, and is sampled when they reach the end of the distance, after which
// a new distance is drawn.
__attribute__((noinline)) inline bool countdown_expired(int64_t& countdown, int64_t size) {
  ThreadState& t = t_state;
  int64_t& rest = &countdown == &t.heap_countdown ? t_rest.heap : t_rest.mmap;
  bool large = g_rate > 1 && size >= g_rate;  // always sampled, weight 1 (fast_math.h)
  int64_t left = countdown + size + rest;     // the distance before this allocation
  if (t.rng == 0) {  // first slow path of this thread: start a distance, then count this one
    seed_thread_rng(t);
    left = draw_distance(t.rng);
    t_rest = {};
  }
  bool sampled = large;
  if (!large) {
    left -= size;
    sampled = left <= 0;
    if (sampled) left = draw_distance(t.rng);
  }
  load_distance(countdown, rest, left);
  return sampled && t.guard_depth == 0;
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
