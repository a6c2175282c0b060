// Stacks for hooks, with a per-thread cache of validated stacks: descriptor and thread creation
// (every call) and the heap sampler (sampled allocations) all take their stacks from here.
//
// Why a cache: descriptors are made on hot paths (a server opens a file or accepts a socket per
// request), and a DWARF unwind costs more than the open() + close() it would annotate (about
// 1.9 µs for six frames against 1.4 µs for open+close on the reference machine). Unlike the heap,
// descriptors cannot be sampled: the fd profile must count every one.
//
// The idea: a call site that repeats is entered with the same return address and the same stack
// pointer, and its callers' return addresses sit at the same stack slots. A full unwind records,
// for every frame, where its return address lives (just below the frame's CFA on x86-64) as an
// offset from the hook's own CFA, and a hash of the values found there. A later call with the same
// (return address, CFA) pair re-reads those slots and compares the hash: equal means the caller
// chain is the same chain, so the interned stack id is reused without unwinding (a few dozen
// loads).
//
// Why that is sound: each frame's CFA is a function of its pc and the CFA below it (rsp-relative
// rules) or of a saved frame pointer that itself lives in the frame; with the same pcs at the
// same slots from the same starting CFA, the unwinder would walk the same frames. A frame whose
// size changed (alloca) moves every slot above it, so the old slots hold other data and the hash
// fails. Frames through a signal trampoline are never cached (their "return address" is in the
// ucontext, not in a slot). The slots read are on this thread's stack between the hook and the
// outermost frame, which was mapped when recorded and stays mapped while the thread lives.
// Fibers that switch stacks under one thread could in principle alias a (ret, CFA) pair to a
// shorter stack; LEAKSCOPE_FD_STACK_CACHE=0 turns the cache off for such hosts.
#include <unwind.h>

#include <atomic>
#include <cerrno>

#include "agent/agent_api.h"
#include "agent/trackers/track_fds.h"

namespace leakscope::agent {

namespace {

constexpr int kCacheWays = 4;
constexpr uintptr_t kMaxSlotOffset = 1u << 20;  // a stack deeper than 1 MiB is not cached

struct CacheEntry {
  uintptr_t ret = 0;  // key: the hook's return address (pcs[0])
  uintptr_t cfa = 0;  // key: the hook's CFA
  uint64_t hash = 0;  // of the values at the slots
  uint32_t stack_id = 0;
  uint32_t n = 0;                         // slots to check (frames - 1)
  uint32_t offsets[kMaxFrames - 1] = {};  // where pcs[i + 1] lives, relative to cfa
};

// 4 x 280 bytes of initial-exec TLS per thread; zeroed (ret == 0 never matches a real call).
constinit thread_local CacheEntry t_cache[kCacheWays] __attribute__((tls_model("initial-exec")));

std::atomic<bool> g_cache_on{true};

uint64_t mix(uint64_t h, uintptr_t v) {
  h ^= v;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

struct Walk {
  uintptr_t marker;  // the hook's return address: frames before it are the agent's
  bool found = false;
  bool cacheable = true;
  int n = 0;
  uintptr_t pcs[kMaxFrames];
  uintptr_t cfas[kMaxFrames];
};

_Unwind_Reason_Code on_frame(struct _Unwind_Context* context, void* arg) {
  auto* walk = static_cast<Walk*>(arg);
  int before_insn = 0;
  uintptr_t pc = _Unwind_GetIPInfo(context, &before_insn);
  if (pc == 0) return _URC_END_OF_STACK;
  if (!walk->found) {
    if (pc != walk->marker) return _URC_NO_REASON;
    walk->found = true;
  }
  if (before_insn) walk->cacheable = false;  // a signal frame: its pc is not in a slot
  walk->pcs[walk->n] = pc;
  walk->cfas[walk->n] = _Unwind_GetCFA(context);
  ++walk->n;
  return walk->n >= kMaxFrames ? _URC_END_OF_STACK : _URC_NO_REASON;
}

bool lookup(const CacheEntry& e, uintptr_t ret, uintptr_t cfa) {
  if (e.ret != ret || e.cfa != cfa || e.stack_id == 0) return false;
  uint64_t h = 0;
  for (uint32_t i = 0; i < e.n; ++i)
    h = mix(h, *reinterpret_cast<const uintptr_t*>(cfa + e.offsets[i]));
  return h == e.hash;
}

void store(CacheEntry& e, const Walk& walk, uintptr_t ret, uintptr_t cfa, uint32_t id) {
  e.ret = 0;  // invalid while being rewritten (a signal handler on this thread may look)
  uint64_t h = 0;
  for (int i = 1; i < walk.n; ++i) {
    // In a backtrace callback, _Unwind_GetCFA is the stack pointer of frame i at its call,
    // i.e. the CFA of frame i - 1: frame i - 1's return address (pcs[i]) sits just below it.
    uintptr_t slot = walk.cfas[i] - sizeof(uintptr_t);
    if (slot < cfa || slot - cfa >= kMaxSlotOffset) return;  // not on this stack: never cached
    e.offsets[i - 1] = static_cast<uint32_t>(slot - cfa);
    h = mix(h, walk.pcs[i]);
  }
  e.n = static_cast<uint32_t>(walk.n > 0 ? walk.n - 1 : 0);
  e.hash = h;
  e.stack_id = id;
  e.cfa = cfa;
  std::atomic_signal_fence(std::memory_order_release);
  e.ret = ret;
}

}  // namespace

void set_site_cache_enabled(bool on) { g_cache_on.store(on, std::memory_order_relaxed); }

__attribute__((noinline)) uint32_t site_stack_id(uintptr_t ret, uintptr_t cfa) {
  int saved_errno = errno;
  bool use_cache = g_cache_on.load(std::memory_order_relaxed);
  CacheEntry& e = t_cache[(ret >> 4) % kCacheWays];
  if (use_cache && lookup(e, ret, cfa)) {
    errno = saved_errno;
    return e.stack_id;
  }
  if (in_unwinder()) {
    // Inside libgcc's frame registry (unwind_hooks.cc): unwinding would take its object_mutex
    // again. The caller's address alone is the honest stack.
    uint32_t id = intern_stack(&ret, 1);
    errno = saved_errno;
    return id;
  }
  ReentryGuard guard;
  Walk walk;
  walk.marker = ret;
  _Unwind_Backtrace(on_frame, &walk);
  uint32_t id;
  if (walk.found) {
    id = intern_stack(walk.pcs, walk.n);
    if (use_cache && walk.cacheable && id != 0) store(e, walk, ret, cfa, id);
  } else {
    // The marker was not seen (an unwinder that reports pcs differently): fall back to the
    // agent's capture, skipping this function and the hook.
    uintptr_t pcs[kMaxFrames];
    int n = capture_stack(pcs, kMaxFrames, 2);
    id = intern_stack(pcs, n);
  }
  errno = saved_errno;
  return id;
}

}  // namespace leakscope::agent
