// Interposed entry points of libgcc's frame registry: _Unwind_Find_FDE and the
// __register_frame* / __deregister_frame* family. They forward to libgcc_s; what they add is
// knowledge of who may hold libgcc's `object_mutex`.
//
// Why (issue 18, item 1): a program that registers unwind info (a JIT: LLVM ORC/MCJIT,
// wasmtime, LuaJIT) switches libgcc's FDE lookup from the lock-free _dl_find_object path to a
// path that takes `object_mutex` on every frame, and libgcc allocates under that mutex (sorting
// a newly seen object in init_object). A sampled allocation there that unwinds takes the same
// mutex again on the same thread: a deadlock. So does the ?debug=2 capture signal landing in a
// thread that holds it; and a handler in *another* thread that waits for the mutex while its own
// thread was interrupted holding the allocator lock the holder needs is a deadlock too.
//
// libgcc_s calls its own _Unwind_Find_FDE through its PLT (objdump -d libgcc_s.so.1 | grep
// Find_FDE@plt), so the agent, first in lookup order, sees every lookup, including those of the
// agent's own unwinds. Two mechanisms:
//
//   * A per-thread depth (ThreadState::unwinder_depth): > 0 while this thread is inside
//     libgcc's lookup or registry and may hold object_mutex. in_unwinder() tells the agent not to
//     unwind then: a sampled allocation is booked with the caller's address alone, a descriptor
//     or thread made there too, and the capture handler reports the interrupted pc alone.
//
//   * A gate (an agent spin lock) around every call that may take object_mutex, i.e. every
//     registry call and every lookup once any frame was registered (libgcc's own
//     `any_objects_registered` never goes back to false, nor does ours). Every holder of
//     object_mutex then holds the gate. The capture handler (UnwindTryOnly) decides once, before
//     it unwinds: with nothing registered it counts as a lock-free lookup for its whole unwind
//     (a registration waits for it); otherwise it *tries* the gate and unwinds holding it, or,
//     when another thread holds it, does not unwind at all (the page gets the pc alone and says
//     why). It never waits for object_mutex, so it is bounded, and a thread never sits in it
//     with every signal masked. (Failing a lookup midway is not an option: libgcc aborts when
//     the first frame of an unwind has no FDE.)
//
// Lookups before the first registration stay lock-free (libgcc takes no lock either): they
// announce themselves in g_inflight, and the first registration waits for the lookups that
// started before it to finish, so none of them can reach object_mutex without the gate.
//
// fork(): the gate is *not* taken around fork. A prepare handler that waited for it could
// deadlock against an allocator whose own prepare handler ran first (jemalloc's, say) while the
// gate holder, inside libgcc, waits for that allocator. Instead a child that inherits the gate
// held by a thread that does not exist in it (so, perhaps, libgcc's object_mutex too: the
// same hazard any threaded program that forks has) never unwinds again (in_unwinder() is true
// for good): its stacks are the caller's address alone.
#include <dlfcn.h>
#include <sched.h>

#include <atomic>

#include "agent/agent_internal.h"
#include "agent/hooks/hook_table.h"

namespace leakscope::agent {

namespace {

using FindFde = const void* (*)(void*, void*);

SpinLock g_gate;
std::atomic<bool> g_registered{false};  // once true, never false again (libgcc's the same)
std::atomic<int> g_inflight{0};         // lock-free lookups under way
std::atomic<bool> g_poisoned{false};    // a fork child inherited the gate held: never unwind
// The capture handler's mode for its unwind (UnwindTryOnly); kNormal elsewhere.
enum : int { kNormal = 0, kLockFree, kGateHeld, kGaveUp };
constinit thread_local int t_capture __attribute__((tls_model("initial-exec"))) = kNormal;
// The interrupted code's heap countdown, while the capture handler forces it below zero.
constinit thread_local int64_t t_saved_countdown __attribute__((tls_model("initial-exec"))) = 0;

void* resolve(const char* name) { return next_symbol(name, "GCC_3.0"); }

#define LEAKSCOPE_UNWIND_FUNCTIONS(X)  \
  X(_Unwind_Find_FDE)                  \
  X(__register_frame)                  \
  X(__register_frame_info)             \
  X(__register_frame_info_bases)       \
  X(__register_frame_table)            \
  X(__register_frame_info_table)       \
  X(__register_frame_info_table_bases) \
  X(__deregister_frame)                \
  X(__deregister_frame_info)           \
  X(__deregister_frame_info_bases)

struct Real {
#define LEAKSCOPE_DECLARE(name) std::atomic<void*> name{nullptr};
  LEAKSCOPE_UNWIND_FUNCTIONS(LEAKSCOPE_DECLARE)
#undef LEAKSCOPE_DECLARE
};
Real g_unwind_real;

#define LEAKSCOPE_REAL(name, type)                                   \
  ({                                                                 \
    void* lr_p = g_unwind_real.name.load(std::memory_order_acquire); \
    if (lr_p == nullptr) {                                           \
      ReentryGuard lr_guard; /* dlvsym may allocate */               \
      lr_p = resolve(#name);                                         \
      g_unwind_real.name.store(lr_p, std::memory_order_release);     \
    }                                                                \
    reinterpret_cast<type>(lr_p);                                    \
  })

// Held by a thread for the duration of a call that may take object_mutex. Recursive per thread
// through the depth: libgcc's entry points call each other.
class GateHolder {
 public:
  GateHolder() {
    if (t_state.unwinder_depth == 0 && t_capture != kGateHeld) {
      g_gate.lock();
      owner_ = true;
    }
    ++t_state.unwinder_depth;
  }
  ~GateHolder() {
    --t_state.unwinder_depth;
    if (owner_) g_gate.unlock();
  }
  GateHolder(const GateHolder&) = delete;
  GateHolder& operator=(const GateHolder&) = delete;

 private:
  bool owner_ = false;
};

// A registry call: marks the registry as in use for good, lets the lock-free lookups that began
// before drain, then runs under the gate.
void enter_registry() {
  if (g_registered.load(std::memory_order_acquire)) return;
  g_registered.store(true, std::memory_order_seq_cst);
  while (g_inflight.load(std::memory_order_seq_cst) != 0) sched_yield();
}

}  // namespace

bool in_unwinder() {
  return t_state.unwinder_depth > 0 || g_poisoned.load(std::memory_order_relaxed);
}

UnwindTryOnly::UnwindTryOnly() {
  // libgcc sorts a newly registered object with malloc, under object_mutex, during a lookup;
  // in a handler that interrupted the allocator, malloc would deadlock on the allocator's own
  // lock. A forced countdown sends every allocation of this thread to the hooks' slow path,
  // which fails it while the handler unwinds (in_capture_unwind); libgcc then searches the
  // object unsorted, as it does when malloc fails.
  t_saved_countdown = t_state.heap_countdown;
  t_state.heap_countdown = INT64_MIN / 4;
  g_inflight.fetch_add(1, std::memory_order_seq_cst);
  if (!g_registered.load(std::memory_order_seq_cst)) {
    t_capture = kLockFree;  // a registration waits for this whole unwind
    return;
  }
  g_inflight.fetch_sub(1, std::memory_order_release);
  t_capture = kGaveUp;
  // With sampling off the hooks' fast path forwards every allocation before any countdown is
  // looked at, so the forced countdown above cannot fail libgcc's malloc: do not unwind.
  if (!g_sampling.load(std::memory_order_relaxed)) return;
  // The gate is held for one lookup at a time: a short, bounded wait usually gets it. Bounded,
  // because its holder may be waiting for a lock this very thread was interrupted holding.
  constexpr int kTries = 100;
  for (int i = 0; i < kTries; ++i) {
    if (g_gate.try_lock()) {
      t_capture = kGateHeld;
      break;
    }
    sched_yield();  // let a preempted holder finish its lookup
  }
}
UnwindTryOnly::~UnwindTryOnly() {
  if (t_capture == kLockFree) g_inflight.fetch_sub(1, std::memory_order_release);
  if (t_capture == kGateHeld) g_gate.unlock();
  t_capture = kNormal;
  t_state.heap_countdown = t_saved_countdown;
}
bool in_capture_unwind() { return t_capture != kNormal; }
bool UnwindTryOnly::gave_up() const { return t_capture == kGaveUp; }

void unwind_hooks_init() {
#define LEAKSCOPE_RESOLVE(name) (void)LEAKSCOPE_REAL(name, void*);
  LEAKSCOPE_UNWIND_FUNCTIONS(LEAKSCOPE_RESOLVE)
#undef LEAKSCOPE_RESOLVE
}

void unwind_fork_child() {
  if (g_gate.try_lock()) {
    g_gate.unlock();
    return;
  }
  g_poisoned.store(true, std::memory_order_relaxed);  // held by a thread this child lacks
  g_gate.reset();
}

}  // namespace leakscope::agent

using namespace leakscope::agent;

extern "C" {

LEAKSCOPE_EXPORT const void* _Unwind_Find_FDE(void* pc, void* bases) {
  auto real = LEAKSCOPE_REAL(_Unwind_Find_FDE, FindFde);
  if (real == nullptr) return nullptr;
  if (t_capture == kLockFree) return real(pc, bases);  // see UnwindTryOnly
  if (!g_registered.load(std::memory_order_acquire)) {
    // No frame registered: libgcc's lookup takes no lock. Announce it, then look again (a
    // registration between the two loads waits for this lookup).
    g_inflight.fetch_add(1, std::memory_order_seq_cst);
    if (!g_registered.load(std::memory_order_seq_cst)) {
      const void* fde = real(pc, bases);
      g_inflight.fetch_sub(1, std::memory_order_release);
      return fde;
    }
    g_inflight.fetch_sub(1, std::memory_order_release);
  }
  GateHolder gate;  // the capture handler holds it already (kGateHeld)
  return real(pc, bases);
}

#define LEAKSCOPE_REGISTRY_HOOK(ret, name, params, args) \
  LEAKSCOPE_EXPORT ret name params {                     \
    using Fn = ret(*) params;                            \
    auto real = LEAKSCOPE_REAL(name, Fn);                \
    if (real == nullptr) return static_cast<ret>(0);     \
    enter_registry();                                    \
    GateHolder gate;                                     \
    return real args;                                    \
  }

// The prototypes of libgcc's unwind-dw2-fde.h; struct object is opaque here.
LEAKSCOPE_REGISTRY_HOOK(void, __register_frame, (void* begin), (begin))
LEAKSCOPE_REGISTRY_HOOK(void, __register_frame_info, (const void* begin, void* ob), (begin, ob))
LEAKSCOPE_REGISTRY_HOOK(void, __register_frame_info_bases,
                        (const void* begin, void* ob, void* tbase, void* dbase),
                        (begin, ob, tbase, dbase))
LEAKSCOPE_REGISTRY_HOOK(void, __register_frame_table, (void* begin), (begin))
LEAKSCOPE_REGISTRY_HOOK(void, __register_frame_info_table, (void* begin, void* ob), (begin, ob))
LEAKSCOPE_REGISTRY_HOOK(void, __register_frame_info_table_bases,
                        (void* begin, void* ob, void* tbase, void* dbase),
                        (begin, ob, tbase, dbase))
LEAKSCOPE_REGISTRY_HOOK(void, __deregister_frame, (void* begin), (begin))
LEAKSCOPE_REGISTRY_HOOK(void*, __deregister_frame_info, (const void* begin), (begin))
LEAKSCOPE_REGISTRY_HOOK(void*, __deregister_frame_info_bases, (const void* begin), (begin))

}  // extern "C"
