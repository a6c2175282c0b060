// The interposed C allocation functions. Each one forwards to the next definition in lookup
// order (g_real, real_functions.h) and, on the rare sampled call, books it (heap_books.cc).
//
// Shape of every allocating hook:   p = real(...); if (should_sample(size)) record(p); return p;
// Shape of every freeing hook:      if (g_live.maybe_contains(p)) record_free(p); real_free(p);
// The free is booked *before* the real free: once the block is back in the allocator another
// thread may get the same address and sample it (DESIGN.md).
//
// Before g_real is resolved (the first calls of the process, and dlsym's own calloc) the hooks
// resolve it, or answer from the bootstrap buffer while the resolution is in progress.
#include <errno.h>
#include <unistd.h>

#include <cstring>

#include "agent/heap/heap_state.h"
#include "agent/hooks/real_functions.h"

using namespace leakscope::agent;

namespace {

// Bootstrap blocks carry their size in a 16-byte header, for realloc and malloc_usable_size.
void* bootstrap_block(size_t size, size_t alignment = 16) {
  if (alignment < 16) alignment = 16;
  char* raw = static_cast<char*>(bootstrap_alloc(size + alignment, alignment));
  if (raw == nullptr) return nullptr;
  char* p = raw + alignment;
  memcpy(p - sizeof(size_t), &size, sizeof(size_t));
  return p;
}

size_t bootstrap_size(const void* p) {
  size_t size;
  memcpy(&size, static_cast<const char*>(p) - sizeof(size_t), sizeof(size_t));
  return size;
}

// True when g_real is usable; otherwise the caller answers from the bootstrap buffer.
__attribute__((noinline)) bool ensure_real() {
  if (in_agent()) return false;  // inside resolve_real_functions(): dlsym is calling us
  return resolve_real_functions();
}

#define LEAKSCOPE_NEED_REAL(name) \
  (LEAKSCOPE_LIKELY(g_real.name != nullptr) || (ensure_real() && g_real.name != nullptr))

// In each hook's own body (the site is the hook's return address and CFA).
#define LEAKSCOPE_SAMPLED(p, size)                                                           \
  do {                                                                                       \
    if (LEAKSCOPE_UNLIKELY(should_sample_heap(size))) {                                      \
      record_sampled(BookKind::kHeap, (p), static_cast<int64_t>(size), LEAKSCOPE_HOOK_SITE); \
    }                                                                                        \
  } while (0)

inline void book_free(void* p) {
  if (LEAKSCOPE_UNLIKELY(g_live.maybe_contains(reinterpret_cast<uintptr_t>(p)))) {
    record_free(reinterpret_cast<uintptr_t>(p));
  }
}

}  // namespace

// Shared by realloc and reallocarray; always inlined, so the site is the hook's.
#define realloc_body(p_in, size_in)                                    \
  ({                                                                   \
    void* rb_p = (p_in);                                               \
    size_t rb_size = (size_in);                                        \
    void* rb_q;                                                        \
    if (rb_p != nullptr && is_bootstrap(rb_p)) {                       \
      rb_q = malloc(rb_size); /* the bootstrap phase: never sampled */ \
      if (rb_q != nullptr) {                                           \
        size_t old = bootstrap_size(rb_p);                             \
        memcpy(rb_q, rb_p, old < rb_size ? old : rb_size);             \
      }                                                                \
    } else if (!LEAKSCOPE_NEED_REAL(realloc)) {                        \
      rb_q = bootstrap_block(rb_size);                                 \
    } else {                                                           \
      if (rb_p != nullptr) book_free(rb_p);                            \
      rb_q = g_real.realloc(rb_p, rb_size);                            \
      if (rb_q != nullptr) LEAKSCOPE_SAMPLED(rb_q, rb_size);           \
    }                                                                  \
    rb_q;                                                              \
  })

extern "C" {

// malloc, free and calloc carry nearly every allocation, so their hooks come in two halves. The
// sampling decision needs only the size, so the inline half takes it *before* the real call; an
// unsampled call is then a tail call into the real function: no frame, no saved register, a
// dozen instructions (bench/agent_heap_instructions.sh counts them). Everything else (resolving
// the real functions, the bootstrap buffer, booking a sample) is in the noinline half, which is
// given the hook's own site, taken in the hook's body.
//   expired: the inline half ran the thread's countdown out (heap_countdown_running, sampler.h).
//   False when the real function was not resolved yet: those first calls are never sampled.
__attribute__((noinline)) void* malloc_slow(size_t size, bool expired, uintptr_t ret,
                                            uintptr_t cfa) {
  if (in_capture_unwind()) return nullptr;  // libgcc, in the capture handler: unwind_hooks.cc
  if (!LEAKSCOPE_NEED_REAL(malloc)) return bootstrap_block(size);
  bool sampled = expired && countdown_expired(t_state.heap_countdown, static_cast<int64_t>(size));
  void* p = g_real.malloc(size);
  if (sampled && p != nullptr) {
    record_sampled(BookKind::kHeap, p, static_cast<int64_t>(size), ret, cfa);
  }
  return p;
}

__attribute__((noinline)) void* calloc_slow(size_t n, size_t size, bool expired, uintptr_t ret,
                                            uintptr_t cfa) {
  if (in_capture_unwind()) return nullptr;
  if (!LEAKSCOPE_NEED_REAL(calloc)) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) return nullptr;
    return bootstrap_block(total);  // the bootstrap buffer is static, hence zeroed
  }
  bool sampled =
      expired && countdown_expired(t_state.heap_countdown, static_cast<int64_t>(n * size));
  void* p = g_real.calloc(n, size);
  if (sampled && p != nullptr) {
    record_sampled(BookKind::kHeap, p, static_cast<int64_t>(n * size), ret, cfa);
  }
  return p;
}

// A free of a bootstrap block, or before the real free is known.
__attribute__((noinline)) void free_slow(void* p) {
  if (is_bootstrap(p)) return;
  book_free(p);
  if (LEAKSCOPE_NEED_REAL(free)) g_real.free(p);
}

// A free of an address the live set may hold (the filters said maybe): book it, then free it.
__attribute__((noinline)) void free_maybe_sampled(void* p) {
  if (g_live.maybe_contains(reinterpret_cast<uintptr_t>(p))) {
    record_free(reinterpret_cast<uintptr_t>(p));
  }
  g_real.free(p);
}

LEAKSCOPE_EXPORT void* malloc(size_t size) {
  auto real = g_real.malloc;
  if (LEAKSCOPE_LIKELY(real != nullptr) && heap_countdown_running(size)) return real(size);
  return malloc_slow(size, real != nullptr, LEAKSCOPE_HOOK_SITE);
}

// The bootstrap range test comes first: a bootstrap block is never in the live set, and its
// hash could still hit a busy filter slot. The inline half reads only the first filter line;
// the rest of the lookup is out of line.
LEAKSCOPE_EXPORT void free(void* p) {
  if (p == nullptr) return;
  auto real = g_real.free;
  if (LEAKSCOPE_LIKELY(real != nullptr) && LEAKSCOPE_LIKELY(!is_bootstrap(p))) {
    if (LEAKSCOPE_LIKELY(g_live.surely_absent(reinterpret_cast<uintptr_t>(p)))) return real(p);
    return free_maybe_sampled(p);
  }
  free_slow(p);
}

LEAKSCOPE_EXPORT void* calloc(size_t n, size_t size) {
  auto real = g_real.calloc;
  if (LEAKSCOPE_LIKELY(real != nullptr) && heap_countdown_running(n * size)) return real(n, size);
  return calloc_slow(n, size, real != nullptr, LEAKSCOPE_HOOK_SITE);
}

LEAKSCOPE_EXPORT void* realloc(void* p, size_t size) { return realloc_body(p, size); }

LEAKSCOPE_EXPORT void* reallocarray(void* p, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc_body(p, total);
}

LEAKSCOPE_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) {
  if (!LEAKSCOPE_NEED_REAL(posix_memalign)) {
    *out = bootstrap_block(size, alignment);
    return *out ? 0 : ENOMEM;
  }
  int rc = g_real.posix_memalign(out, alignment, size);
  if (rc == 0) LEAKSCOPE_SAMPLED(*out, size);
  return rc;
}

LEAKSCOPE_EXPORT void* memalign(size_t alignment, size_t size) {
  if (!LEAKSCOPE_NEED_REAL(memalign)) return bootstrap_block(size, alignment);
  void* p = g_real.memalign(alignment, size);
  LEAKSCOPE_SAMPLED(p, size);
  return p;
}

LEAKSCOPE_EXPORT void* aligned_alloc(size_t alignment, size_t size) {
  if (!LEAKSCOPE_NEED_REAL(aligned_alloc)) return bootstrap_block(size, alignment);
  void* p = g_real.aligned_alloc(alignment, size);
  LEAKSCOPE_SAMPLED(p, size);
  return p;
}

LEAKSCOPE_EXPORT void* valloc(size_t size) {
  if (!LEAKSCOPE_NEED_REAL(valloc)) return bootstrap_block(size, 4096);
  void* p = g_real.valloc(size);
  LEAKSCOPE_SAMPLED(p, size);
  return p;
}

LEAKSCOPE_EXPORT void* pvalloc(size_t size) {
  if (!LEAKSCOPE_NEED_REAL(pvalloc)) return bootstrap_block(size, 4096);
  void* p = g_real.pvalloc(size);
  LEAKSCOPE_SAMPLED(p, size);
  return p;
}

LEAKSCOPE_EXPORT size_t malloc_usable_size(void* p) {
  if (p == nullptr) return 0;
  if (is_bootstrap(p)) return bootstrap_size(p);
  if (!LEAKSCOPE_NEED_REAL(malloc_usable_size)) return 0;
  return g_real.malloc_usable_size(p);
}

}  // extern "C"
