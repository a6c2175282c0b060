// Every replaceable operator new and delete (the list is tcmalloc's libc_override checklist:
// plain, array, nothrow, sized, aligned, and their combinations). new is malloc (or an aligned
// allocation) plus sampling; delete is free. Defining them here, instead of letting
// libstdc++'s call our malloc, keeps one frame less on sampled stacks and makes sized and
// aligned deletes cheap.
//
// Failure: when the allocation fails, the hook calls the *next* operator new (libstdc++'s, via
// dlsym(RTLD_NEXT)), which runs the host's new_handler and throws the host's std::bad_alloc.
// The agent's own (static, hidden) libstdc++ never throws into the host. In the agent's own
// work (AllocFailureThrows: its thread, its init) a failure throws the agent's bad_alloc
// instead, which the agent catches: the one request fails, not the process.
#include <dlfcn.h>
#include <stdlib.h>

#include <new>

#include "agent/heap/heap_state.h"
#include "agent/hooks/real_functions.h"
#include "agent/heap/region.h"

using namespace leakscope::agent;

namespace {

using NewFn = void* (*)(size_t);
using AlignedNewFn = void* (*)(size_t, std::align_val_t);

constinit thread_local int t_alloc_throws __attribute__((tls_model("initial-exec"))) = 0;

__attribute__((noinline)) void* next_new(const char* symbol, size_t size) {
  if (t_alloc_throws > 0) throw std::bad_alloc();  // the agent's own: see the file comment
  auto fn = reinterpret_cast<NewFn>(dlsym(RTLD_NEXT, symbol));
  if (fn == nullptr) abort();  // no libstdc++ below us and out of memory: nothing else to do
  return fn(size);
}

__attribute__((noinline)) void* next_aligned_new(const char* symbol, size_t size,
                                                 std::align_val_t al) {
  if (t_alloc_throws > 0) throw std::bad_alloc();
  auto fn = reinterpret_cast<AlignedNewFn>(dlsym(RTLD_NEXT, symbol));
  if (fn == nullptr) abort();
  return fn(size, al);
}

// An operator new whose sampling countdown ran out (heap_countdown_running, sampler.h): decides,
// allocates and books, with the operator's site.
__attribute__((noinline)) void* allocate_expired(size_t size, uintptr_t ret, uintptr_t cfa) {
  if (countdown_expired(t_state.heap_countdown, static_cast<int64_t>(size))) {
    return sampled_heap_alloc(size, 0, false, ret, cfa);
  }
  return g_real.malloc(size);
}

// Macros, not functions: the site (LEAKSCOPE_HOOK_SITE) must be taken in the operator's body.
// The sampling decision is taken before the real call (it needs only the size), so an unsampled
// new is the countdown, the real malloc and the null test.
#define allocate(size_in)                                   \
  ({                                                        \
    size_t a_size = (size_in);                              \
    void* a_p;                                              \
    if (LEAKSCOPE_LIKELY(heap_countdown_running(a_size))) { \
      a_p = g_real.malloc(a_size); /* or its placeholder */ \
    } else {                                                \
      a_p = allocate_expired(a_size, LEAKSCOPE_HOOK_SITE);  \
    }                                                       \
    a_p;                                                    \
  })

#define allocate_aligned(size_in, al)                                                  \
  ({                                                                                   \
    size_t aa_size = (size_in);                                                        \
    size_t aa_alignment = static_cast<size_t>(al);                                     \
    if (aa_alignment < sizeof(void*)) aa_alignment = sizeof(void*);                    \
    void* aa_p = nullptr;                                                              \
    if (LEAKSCOPE_UNLIKELY(g_real.posix_memalign == nullptr)) {                        \
      if (posix_memalign(&aa_p, aa_alignment, aa_size) != 0) aa_p = nullptr;           \
    } else if (LEAKSCOPE_UNLIKELY(should_sample_heap(aa_size))) {                      \
      aa_p = sampled_heap_alloc(aa_size, aa_alignment < 16 ? 16 : aa_alignment, false, \
                                LEAKSCOPE_HOOK_SITE);                                  \
    } else if (g_real.posix_memalign(&aa_p, aa_alignment, aa_size) != 0) {             \
      aa_p = nullptr;                                                                  \
    }                                                                                  \
    aa_p;                                                                              \
  })

// free()'s two halves, without the call through the PLT: one compare, then the real free.
inline void deallocate(void* p) {
  if (LEAKSCOPE_LIKELY(!maybe_ours(p))) return g_real.free(p);  // known outside the range
  free_ours(p);
}

}  // namespace

namespace leakscope::agent {

AllocFailureThrows::AllocFailureThrows() { ++t_alloc_throws; }
AllocFailureThrows::~AllocFailureThrows() { --t_alloc_throws; }

}  // namespace leakscope::agent

LEAKSCOPE_EXPORT void* operator new(size_t size) {
  void* p = allocate(size);
  return p != nullptr ? p : next_new("_Znwm", size);
}
LEAKSCOPE_EXPORT void* operator new[](size_t size) {
  void* p = allocate(size);
  return p != nullptr ? p : next_new("_Znam", size);
}
LEAKSCOPE_EXPORT void* operator new(size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
LEAKSCOPE_EXPORT void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
LEAKSCOPE_EXPORT void* operator new(size_t size, std::align_val_t al) {
  void* p = allocate_aligned(size, al);
  return p != nullptr ? p : next_aligned_new("_ZnwmSt11align_val_t", size, al);
}
LEAKSCOPE_EXPORT void* operator new[](size_t size, std::align_val_t al) {
  void* p = allocate_aligned(size, al);
  return p != nullptr ? p : next_aligned_new("_ZnamSt11align_val_t", size, al);
}
LEAKSCOPE_EXPORT void* operator new(size_t size, std::align_val_t al,
                                    const std::nothrow_t&) noexcept {
  return allocate_aligned(size, al);
}
LEAKSCOPE_EXPORT void* operator new[](size_t size, std::align_val_t al,
                                      const std::nothrow_t&) noexcept {
  return allocate_aligned(size, al);
}

LEAKSCOPE_EXPORT void operator delete(void* p) noexcept { deallocate(p); }
LEAKSCOPE_EXPORT void operator delete[](void* p) noexcept { deallocate(p); }
LEAKSCOPE_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept { deallocate(p); }
LEAKSCOPE_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept { deallocate(p); }
LEAKSCOPE_EXPORT void operator delete(void* p, size_t) noexcept { deallocate(p); }
LEAKSCOPE_EXPORT void operator delete[](void* p, size_t) noexcept { deallocate(p); }
LEAKSCOPE_EXPORT void operator delete(void* p, std::align_val_t) noexcept { deallocate(p); }
LEAKSCOPE_EXPORT void operator delete[](void* p, std::align_val_t) noexcept { deallocate(p); }
LEAKSCOPE_EXPORT void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  deallocate(p);
}
LEAKSCOPE_EXPORT void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  deallocate(p);
}
LEAKSCOPE_EXPORT void operator delete(void* p, size_t, std::align_val_t) noexcept { deallocate(p); }
LEAKSCOPE_EXPORT void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  deallocate(p);
}
