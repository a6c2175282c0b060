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

// Sets of ways: one call site (ret, CFA) reached through several caller chains (a helper called
// from three places in one function: the same return address and the same CFA each time) keeps
// one entry per chain in its set, validated one by one. With one entry per site the chains
// evicted each other on every call: a churn benchmark missed 54% of its lookups at rate 1 and
// spent 88% of its instructions unwinding (BENCHMARKS.md, "What one sample costs"). Two sets of
// eight ways, not four of four: the same 16 entries, but a program's few hot chains (nine
// distinct stacks in that benchmark, three of them on one (ret, CFA)) rarely overflow a set of
// eight, where with four sets they did: 5.5% misses against 0.02% (its first calls only). A
// lookup compares at most eight keys before validating the one that matches.
constexpr int kCacheSets = 2;
constexpr int kCacheWays = 8;
constexpr uintptr_t kMaxSlotOffset = uintptr_t{1} << 19;  // offsets are 16-bit counts of words

struct CacheEntry {
  uintptr_t ret = 0;  // key: the hook's return address (pcs[0])
  uintptr_t cfa = 0;  // key: the hook's CFA
  uint64_t hash = 0;  // of the values at the slots
  uint32_t stack_id = 0;
  uint16_t n = 0;                         // slots to check (frames - 1)
  uint16_t offsets[kMaxFrames - 1] = {};  // where pcs[i + 1] lives: cfa + 8 * offsets[i]
};
static_assert(sizeof(CacheEntry) == 160, "16 entries of initial-exec TLS per thread");

struct SiteCache {
  CacheEntry sets[kCacheSets][kCacheWays];
  uint8_t next_victim[kCacheSets] = {};
};

// 2.5 KiB of initial-exec TLS per thread; zeroed (ret == 0 never matches a real call).
constinit thread_local SiteCache t_cache __attribute__((tls_model("initial-exec")));

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
  for (uint32_t i = 0; i < e.n; ++i) {
    h = mix(h, *reinterpret_cast<const uintptr_t*>(cfa + uintptr_t{e.offsets[i]} * 8));
  }
  return h == e.hash;
}

void store(CacheEntry& e, const Walk& walk, uintptr_t ret, uintptr_t cfa, uint32_t id) {
  e.ret = 0;  // invalid while being rewritten (a signal handler on this thread may look)
  uint64_t h = 0;
  for (int i = 1; i < walk.n; ++i) {
    // In a backtrace callback, _Unwind_GetCFA is the stack pointer of frame i at its call,
    // i.e. the CFA of frame i - 1: frame i - 1's return address (pcs[i]) sits just below it.
    uintptr_t slot = walk.cfas[i] - sizeof(uintptr_t);
    if (slot < cfa || slot - cfa >= kMaxSlotOffset || (slot - cfa) % 8 != 0) {
      return;  // not on this stack: never cached
    }
    e.offsets[i - 1] = static_cast<uint16_t>((slot - cfa) / 8);
    h = mix(h, walk.pcs[i]);
  }
  e.n = static_cast<uint16_t>(walk.n > 0 ? walk.n - 1 : 0);
  e.hash = h;
  e.stack_id = id;
  e.cfa = cfa;
  std::atomic_signal_fence(std::memory_order_release);
  e.ret = ret;
}

int set_of(uintptr_t ret, uintptr_t cfa) {
  return static_cast<int>(mix(ret, cfa) >> 63) & (kCacheSets - 1);
}

// The way of `set` holding the validated stack of (ret, cfa), or nullptr.
const CacheEntry* cache_find(int set, uintptr_t ret, uintptr_t cfa) {
  for (const CacheEntry& e : t_cache.sets[set]) {
    if (lookup(e, ret, cfa)) return &e;
  }
  return nullptr;
}

// The way to overwrite: an empty one, else the next in turn.
CacheEntry& cache_victim(int set) {
  for (CacheEntry& e : t_cache.sets[set]) {
    if (e.ret == 0) return e;
  }
  uint8_t& next = t_cache.next_victim[set];
  next = static_cast<uint8_t>((next + 1) % kCacheWays);
  return t_cache.sets[set][next];
}

}  // namespace

void set_site_cache_enabled(bool on) { g_cache_on.store(on, std::memory_order_relaxed); }

__attribute__((noinline)) uint32_t site_stack_id(uintptr_t ret, uintptr_t cfa) {
  int saved_errno = errno;
  bool use_cache = g_cache_on.load(std::memory_order_relaxed);
  int set = set_of(ret, cfa);
  if (use_cache) {
    if (const CacheEntry* hit = cache_find(set, ret, cfa)) {
      errno = saved_errno;
      return hit->stack_id;
    }
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
    if (use_cache && walk.cacheable && id != 0) store(cache_victim(set), walk, ret, cfa, id);
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
