// capture_stack(): DWARF unwinding with libgcc's _Unwind_Backtrace.
//
// Why this unwinder: Debian's libraries are built without frame pointers, so a frame-pointer walk
// loses the callers of libc and libstdc++ functions. libgcc's unwinder reads .eh_frame, which
// every object has. Since GCC 12 on glibc >= 2.35 it finds the FDE of a pc with
// _dl_find_object(), which takes no lock (and in particular not the dl_iterate_phdr / dl_load
// write lock that deadlocked gperftools, jemalloc and heaptrack against allocator locks): the
// unwinder can run inside malloc, inside signal handlers and while another thread dlopen()s.
// libgcc_s exports _dl_find_object as an undefined import, which is checked by a unit test.
//
// A program that registers unwind info (a JIT) makes libgcc take a mutex on every frame, and
// allocate under it: see unwind_hooks.cc for why nothing here unwinds inside that mutex.
//
// Rules kept here: no agent lock is held while unwinding (callers capture first, then lock),
// and nothing here allocates. The first unwind initialises libgcc's register tables under a
// pthread_once; the agent warms that up in its constructor.
#include <link.h>
#include <unwind.h>

#include "agent/agent_internal.h"

namespace leakscope::agent {

namespace {

// The agent's own executable segment: leading frames inside it are never part of a stack, so
// callers need not count their inlined helpers exactly (`skip` is a minimum).
uintptr_t g_self_begin = 0;
uintptr_t g_self_end = 0;

int find_self(struct dl_phdr_info* info, size_t, void* arg) {
  uintptr_t probe = reinterpret_cast<uintptr_t>(arg);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    uintptr_t begin = info->dlpi_addr + ph.p_vaddr, end = begin + ph.p_memsz;
    if (probe >= begin && probe < end) {
      g_self_begin = begin;
      g_self_end = end;
      return 1;
    }
  }
  return 0;
}

struct UnwindState {
  uintptr_t* pcs;
  int max;
  int skip;  // frames still to skip; includes capture_stack's own frame
  int n;
};

_Unwind_Reason_Code on_frame(struct _Unwind_Context* context, void* arg) {
  auto* state = static_cast<UnwindState*>(arg);
  uintptr_t pc = _Unwind_GetIP(context);
  if (pc == 0) return _URC_END_OF_STACK;
  if (state->skip > 0) {
    --state->skip;
    return _URC_NO_REASON;
  }
  if (state->n == 0 && pc >= g_self_begin && pc < g_self_end) return _URC_NO_REASON;
  state->pcs[state->n++] = pc;
  return state->n >= state->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

}  // namespace

__attribute__((noinline)) int capture_stack(uintptr_t* pcs, int max, int skip) {
  if (max <= 0 || in_unwinder()) return 0;  // libgcc's object_mutex may be ours: unwind_hooks.cc
  if (max > kMaxFrames) max = kMaxFrames;
  UnwindState state{pcs, max, skip + 1, 0};
  _Unwind_Backtrace(on_frame, &state);
  return state.n;
}

void stack_capture_init() {
  unwind_hooks_init();  // resolved here, never first inside a signal handler
  dl_iterate_phdr(find_self, reinterpret_cast<void*>(&capture_stack));
  uintptr_t warm[4];
  capture_stack(warm, 4, 0);  // libgcc initialises its tables once, here rather than in a hook
}

}  // namespace leakscope::agent
