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
//
// The sample budget (LEAKSCOPE_MAX_SAMPLES_PER_SEC, per thread, per second of the thread's CPU
// time): while a thread allocates so fast that it would take more heap samples than that, its
// heap rate is doubled (g_rate << shift), and halved again when its samples fall under a quarter
// of the budget. So the cost of sampling stays a bounded share of the thread's CPU whatever the
// allocation rate, which matters at `leakscope run`'s 16 KiB. Each thread decides alone, every
// kBudgetWindow of its own samples (one clock read per window, on the slow path): nothing shared
// is written. The rate changes only where a new distance is drawn, right after a sample, so every
// distance runs at one rate and the sample that ends it is weighted at that rate
// (t_rest.sample_rate, booked with the sample and used again for its free): given the past, an
// allocation of S bytes is sampled with probability 1 - exp(-S/R) for the R in force, and the
// weights 1/(1 - exp(-S/R)) keep every estimate unbiased (Horvitz-Thompson with probabilities
// known at the time). Mappings keep g_rate. Rate 1 (every allocation) has no budget.
#pragma once

#include "agent/agent_internal.h"
#include "agent/heap/fast_math.h"

namespace leakscope::agent {

extern int64_t g_rate __attribute__((visibility("hidden")));  // set once at init
// LEAKSCOPE_MAX_SAMPLES_PER_SEC: heap samples per second of a thread's CPU time before its rate
// is raised; 0: no budget. Set once at init.
extern int64_t g_max_samples_per_sec __attribute__((visibility("hidden")));

inline uint64_t next_random(uint64_t& state) {  // xorshift64*
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545f4914f6cdd1dull;
}

// A fresh sampling distance: -ln(U) * rate, U uniform in (0, 1].
inline int64_t draw_distance(uint64_t& rng, int64_t rate) {
  if (rate <= 1) return 0;
  double u = static_cast<double>((next_random(rng) >> 11) + 1) * (1.0 / 9007199254740992.0);
  double d = -fast_ln(u) * static_cast<double>(rate);
  return d > 4e18 ? int64_t{4000000000000000000} : static_cast<int64_t>(d) + 1;
}

LEAKSCOPE_HIDDEN void seed_thread_rng(ThreadState& t);

// The part of each countdown's distance beyond `rate`: a countdown never holds more than `rate`,
// so an allocation of `rate` bytes or more always reaches the slow path, where it is sampled.
// Only the slow path reads or writes these (heap_books.cc defines them), with the thread's
// sample budget.
struct CountdownRest {
  int64_t heap;
  int64_t mmap;
  int64_t window_start;    // thread CPU time (ns) at the start of the budget window; 0: none
  int32_t window_samples;  // heap samples in this window
  int32_t heap_shift;      // the thread's heap rate is g_rate << heap_shift (the budget's)
  int32_t sample_shift;    // heap_shift when the thread's last heap sample was taken (its weight)
};
extern thread_local constinit CountdownRest t_rest __attribute__((tls_model("initial-exec")));

// Samples per budget window: the thread reads its CPU clock once per window. 16 keeps the clock
// read (a system call) a few percent of the samples' own cost; the measured rate is then known
// to about +-25%, against the factor-of-two steps the budget takes.
inline constexpr int32_t kBudgetWindow = 16;
inline constexpr int32_t kMaxHeapShift = 24;  // at most 16 million times the configured rate

// g_rate raised by a budget shift (g_rate is read each time: a thread's first allocations may
// come before the agent read LEAKSCOPE_RATE).
inline int64_t rate_of_shift(int32_t shift) {
  if (shift <= 0 || g_rate <= 1 || g_rate > (INT64_MAX >> shift)) return g_rate;
  return g_rate << shift;
}

// Ends a budget window (the slow path, after kBudgetWindow heap samples): sets the thread's heap
// rate for its next distance from the samples per CPU second the window saw (budget.cc).
LEAKSCOPE_HIDDEN void budget_window_end(CountdownRest& r);

// The decision alone: the shift for the next window, from this one's shift, the CPU time its
// kBudgetWindow samples took and the budget (samples per CPU second). Up by as many doublings
// as the samples per second need to fit the budget; down while the doubled rate would stay
// under half of it (the gap keeps a thread from flapping between two rates).
LEAKSCOPE_HIDDEN int32_t budget_shift(int32_t shift, int64_t elapsed_ns, int64_t budget);

// The highest heap_shift any thread reached (for the profile's comment).
extern std::atomic<int32_t> g_budget_max_shift __attribute__((visibility("hidden")));

// Loads a distance still to run into a countdown: at most `rate` in it, the rest aside.
inline void load_distance(int64_t& countdown, int64_t& rest, int64_t distance, int64_t rate) {
  countdown = rate > 1 && distance > rate ? rate : distance;
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
  bool heap = &countdown == &t.heap_countdown;
  int64_t& rest = heap ? t_rest.heap : t_rest.mmap;
  int64_t rate = heap ? rate_of_shift(t_rest.heap_shift) : g_rate;
  bool large = rate > 1 && size >= rate;   // always sampled, weight 1 (fast_math.h)
  int64_t left = countdown + size + rest;  // the distance before this allocation
  if (t.rng == 0) {  // first slow path of this thread: start a distance, then count this one
    seed_thread_rng(t);
    left = draw_distance(t.rng, g_rate);
    t_rest = {};
    rate = g_rate;
  }
  bool sampled = large;
  if (!large) {
    left -= size;
    sampled = left <= 0;
  }
  if (sampled && heap && g_rate > 1) {  // rate 1 (every allocation) has no budget
    t_rest.sample_shift = t_rest.heap_shift;
    // Only the drawn samples count: an allocation of the rate or more is sampled whatever the
    // rate (exactly, weight 1), so raising the rate could not spare it, and a thread that takes
    // big blocks with little CPU (a request handler keeping buffers) must not coarsen the rest.
    if (!large && ++t_rest.window_samples >= kBudgetWindow && g_max_samples_per_sec > 0) {
      budget_window_end(t_rest);
      rate = rate_of_shift(t_rest.heap_shift);  // the next distance runs at the new rate
    }
  }
  if (sampled && !large) left = draw_distance(t.rng, rate);
  load_distance(countdown, rest, left, rate);
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

// The fast path: subtract and branch, on one of the thread's countdowns (heap or mmap).
inline bool should_sample(int64_t& countdown, size_t size) {
  if (LEAKSCOPE_UNLIKELY(!g_sampling.load(std::memory_order_relaxed))) return false;
  countdown -= static_cast<int64_t>(size);
  if (LEAKSCOPE_LIKELY(countdown > 0)) return false;
  return countdown_expired(countdown, static_cast<int64_t>(size));
}

inline bool should_sample_heap(size_t size) { return should_sample(t_state.heap_countdown, size); }

}  // namespace leakscope::agent
