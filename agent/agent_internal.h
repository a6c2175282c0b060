// Agent-private declarations shared by the heap sampler, the server and the init code (not by
// the trackers, which use only agent_api.h). Everything is hidden.
//
// Per-thread state lives in one initial-exec TLS block (ThreadState) so that the malloc fast path
// is a TLS load, a subtract and a branch, with no __tls_get_addr call.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "agent/agent_api.h"

#define LEAKSCOPE_EXPORT __attribute__((visibility("default")))
#define LEAKSCOPE_LIKELY(x) __builtin_expect(!!(x), 1)
#define LEAKSCOPE_UNLIKELY(x) __builtin_expect(!!(x), 0)

namespace leakscope::agent {

struct ThreadState {
  int64_t heap_countdown;  // bytes until the next heap sample; <= 0: take the slow path
  int64_t mmap_countdown;  // the same for anonymous mappings
  uint64_t rng;            // xorshift64* state; 0 until the thread's first slow path
  int32_t guard_depth;     // > 0 while inside the agent (ReentryGuard)
  int32_t unwinder_depth;  // > 0 while inside libgcc's FDE lookup/registry (unwind_hooks.cc)
};
static_assert(sizeof(ThreadState) == 32, "ThreadState is on every malloc path; keep it small");

extern thread_local constinit ThreadState t_state __attribute__((tls_model("initial-exec")));

// Configuration, read once from the environment at init (see config.cc and the README).
struct Config {
  int64_t rate = 524288;  // LEAKSCOPE_RATE: mean bytes between samples; 1 = every allocation
  // LEAKSCOPE_MAX_SAMPLES_PER_SEC: heap samples per second of a thread's CPU time before the
  // thread's rate is raised (sampler.h); 0: no budget.
  int64_t max_samples_per_sec = 20000;
  bool start_dormant = false;
  bool inherit = false;
  int64_t max_memory = 64 << 20;  // LEAKSCOPE_MAX_MEMORY: cap on the agent's tables
  int64_t dump_interval_s = 0;
  int64_t dump_keep = 10;  // LEAKSCOPE_DUMP_KEEP: dump rounds kept in the directory; 0: all
  int toggle_signal = 0;
  int dump_signal = 0;
  char addr[128] = {};
  char token[256] = {};
  char announce[512] = {};
  char dump_dir[512] = {};
  char target[256] = {};     // LEAKSCOPE_TARGET: glob on the executable; "": not a known wrapper
  char debug_dir[512] = {};  // LEAKSCOPE_DEBUG_DIR: searched before /usr/lib/debug
};
LEAKSCOPE_HIDDEN const Config& config();
LEAKSCOPE_HIDDEN void load_config(Config& out);

// Sampling switch: dormant mode clears it; hooks then pass straight through.
extern std::atomic<bool> g_sampling __attribute__((visibility("hidden")));
// True once the real functions are resolved and the tables exist.
extern std::atomic<bool> g_ready __attribute__((visibility("hidden")));

// A test-and-set lock that never allocates and never sleeps in the kernel for long. Held only
// for a few hundred instructions, never across an unwind or a call into the real allocator.
class LEAKSCOPE_HIDDEN SpinLock {
 public:
  void lock() {
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) pause();
    }
  }
  bool try_lock() { return !flag_.exchange(true, std::memory_order_acquire); }
  void unlock() { flag_.store(false, std::memory_order_release); }
  // After fork, in the child: the owner may have been another thread, which does not exist.
  void reset() { flag_.store(false, std::memory_order_relaxed); }

 private:
  static void pause();
  std::atomic<bool> flag_{false};
};

class LEAKSCOPE_HIDDEN SpinLockHolder {
 public:
  explicit SpinLockHolder(SpinLock& lock) : lock_(lock) { lock_.lock(); }
  ~SpinLockHolder() { lock_.unlock(); }
  SpinLockHolder(const SpinLockHolder&) = delete;
  SpinLockHolder& operator=(const SpinLockHolder&) = delete;

 private:
  SpinLock& lock_;
};

// Stack table locking for fork (prepare: lock, parent: unlock, child: reset).
LEAKSCOPE_HIDDEN void stack_table_init(int64_t budget_bytes);
LEAKSCOPE_HIDDEN void stack_table_fork_prepare();
LEAKSCOPE_HIDDEN void stack_table_fork_parent();
LEAKSCOPE_HIDDEN void stack_table_fork_child();
LEAKSCOPE_HIDDEN int64_t stack_table_overflow();  // intern_stack calls that found the table full
LEAKSCOPE_HIDDEN int64_t stack_table_size();
LEAKSCOPE_HIDDEN int64_t stack_table_capacity();

// Anonymous memory for the agent's tables, straight from the kernel (never the host's malloc).
LEAKSCOPE_HIDDEN void* agent_map(size_t bytes);
// Bytes agent_map() has handed out so far (address space; mapped lazily by the kernel).
LEAKSCOPE_HIDDEN int64_t agent_mapped_bytes();

// Formats into a fixed buffer and logs (no allocation). Only %s, %d, %ld, %lu and %x.
LEAKSCOPE_HIDDEN void agent_logf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Server side of the agent (server.cc).
LEAKSCOPE_HIDDEN void server_start();  // starts the agent thread if asked for
LEAKSCOPE_HIDDEN void server_after_fork_child();
LEAKSCOPE_HIDDEN void agent_request_dump();  // async-signal-safe: wake the agent thread to dump
LEAKSCOPE_HIDDEN void write_dump_files();    // writes every dump profile into LEAKSCOPE_DUMP_DIR
LEAKSCOPE_HIDDEN void metrics_init();        // registers /metrics (metrics.cc)

// The heap and mmap profiles (heap_routes.cc).
LEAKSCOPE_HIDDEN std::string heap_profile_bytes(bool allocs_default);
LEAKSCOPE_HIDDEN std::string heap_profile_text();
LEAKSCOPE_HIDDEN std::string mmap_profile_bytes();

// Warms up the unwinder once at init (stack_capture.cc).
LEAKSCOPE_HIDDEN void stack_capture_init();

// The frame-registry hooks (unwind_hooks.cc): resolution, and the fork child's view of the gate.
LEAKSCOPE_HIDDEN void unwind_hooks_init();
LEAKSCOPE_HIDDEN void unwind_fork_child();

// Whether this process is the target (samples, serves, announces, dumps) or passes the agent on
// to what it starts (target.cc). May put LEAKSCOPE_CLAIM in the environment.
LEAKSCOPE_HIDDEN bool decide_target(const Config& config);

// Sets up everything once (idempotent; called from the first hook or the constructor).
LEAKSCOPE_HIDDEN void agent_ensure_init();

}  // namespace leakscope::agent
