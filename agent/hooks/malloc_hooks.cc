// The interposed C allocation functions. Each one forwards to the next definition in lookup
// order (g_real, real_functions.h) and, on the rare sampled call, takes the block from the sample
// region and books it (region.h, heap_books.cc).
//
// Shape of every allocating hook:   if (should_sample(size)) return sampled_heap_alloc(...);
//                                   return real(...);
// Shape of every freeing hook:      if (!maybe_ours(p)) return real_free(p); free_ours(p);
// maybe_ours is one unsigned compare against the region's range, which also holds the bootstrap
// blocks. A region block is booked before it goes back to the region; a host block that was
// sampled (no region) is booked before the real free: once the block is back in the allocator
// another thread may get the same address and sample it (DESIGN.md).
//
// Before g_real is resolved (the first calls of the process, and dlsym's own calloc) the hooks
// resolve it, or answer from the bootstrap buffer while the resolution is in progress.
#include <errno.h>
#include <unistd.h>

#include <cstring>

#include "agent/heap/heap_state.h"
#include "agent/heap/region.h"
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

inline bool is_pow2(size_t v) { return v != 0 && (v & (v - 1)) == 0; }

// The size of a block the agent handed out (bootstrap or region); -1 for any other.
int64_t our_size(void* p) {
  if (is_bootstrap(p)) return static_cast<int64_t>(bootstrap_size(p));
  if (g_region.contains(p)) return SampleRegion::header(p)->size;
  return -1;
}

// The aligned allocators' sampled half: region blocks are at least 16-byte aligned.
inline void* sampled_aligned(size_t size, size_t alignment, uintptr_t ret, uintptr_t cfa) {
  return sampled_heap_alloc(size, alignment < 16 ? 16 : alignment, false, ret, cfa);
}

}  // namespace

namespace leakscope::agent {

// The placeholders in g_real until resolution (real_functions.h).
void* unresolved_malloc(size_t size) noexcept {
  if (ensure_real() && g_real.malloc != &unresolved_malloc) return g_real.malloc(size);
  return bootstrap_block(size);
}

void* unresolved_calloc(size_t n, size_t size) noexcept {
  if (ensure_real() && g_real.calloc != &unresolved_calloc) return g_real.calloc(n, size);
  size_t total;
  return __builtin_mul_overflow(n, size, &total) ? nullptr : bootstrap_block(total);
}

// The slow path of every freeing hook (maybe_ours(p) said yes, or nothing is resolved yet).
__attribute__((noinline)) void free_ours(void* p) {
  if (p == nullptr || is_bootstrap(p)) return;  // bootstrap blocks are never given back
  if (g_region.contains(p)) return free_region_block(p);
  // A host block, and the range is widened: some sampled blocks are in the live set.
  if (g_live.maybe_contains(reinterpret_cast<uintptr_t>(p))) {
    record_free(reinterpret_cast<uintptr_t>(p));
  }
  if (LEAKSCOPE_NEED_REAL(free)) g_real.free(p);
}

}  // namespace leakscope::agent

extern "C" {

// malloc, free and calloc carry nearly every allocation, so their hooks come in two halves. The
// sampling decision needs only the size, so the inline half takes it *before* the real call; an
// unsampled call is then a tail call into the real function: no frame, no saved register, a
// few instructions (bench/agent_heap_instructions.sh counts them). Everything else (resolving
// the real functions, the bootstrap buffer, the sampled block) is in the noinline half, which
// is given the hook's own site, taken in the hook's body.
//   expired: the inline half ran the thread's countdown out (heap_countdown_running, sampler.h),
//   which only happens with sampling on, so after resolution. Until then g_real.malloc and
//   g_real.calloc are placeholders that resolve or answer from the bootstrap buffer.
__attribute__((noinline)) void* malloc_slow(size_t size, bool expired, uintptr_t ret,
                                            uintptr_t cfa) {
  if (in_capture_unwind()) return nullptr;  // libgcc, in the capture handler: unwind_hooks.cc
  if (expired && countdown_expired(t_state.heap_countdown, static_cast<int64_t>(size))) {
    return sampled_heap_alloc(size, 0, false, ret, cfa);
  }
  return g_real.malloc(size);
}

__attribute__((noinline)) void* calloc_slow(size_t n, size_t size, bool expired, uintptr_t ret,
                                            uintptr_t cfa) {
  if (in_capture_unwind()) return nullptr;
  size_t total;
  bool overflow = __builtin_mul_overflow(n, size, &total);
  if (!overflow && expired &&
      countdown_expired(t_state.heap_countdown, static_cast<int64_t>(total))) {
    return sampled_heap_alloc(total, 0, true, ret, cfa);
  }
  return g_real.calloc(n, size);
}

// realloc and reallocarray, when the block is ours or the countdown ran out (expired, as for
// malloc_slow; false also when the caller did not run the countdown). A block of ours
// (bootstrap or region), or a host block whose new size is sampled, moves: a new block from the
// normal path (the region when sampled, else the real malloc), the smaller of the two sizes
// copied, the old block freed through free() (which books it). Any other host block goes to the
// real realloc.
__attribute__((noinline)) void* realloc_slow(void* p, size_t size, bool expired, uintptr_t ret,
                                             uintptr_t cfa) {
  if (!LEAKSCOPE_NEED_REAL(realloc)) {  // the bootstrap phase: never sampled
    void* q = bootstrap_block(size);
    if (q != nullptr && p != nullptr && is_bootstrap(p)) {
      size_t old = bootstrap_size(p);
      memcpy(q, p, old < size ? old : size);
    }
    return q;
  }
  bool sampled = expired ? countdown_expired(t_state.heap_countdown, static_cast<int64_t>(size))
                         : should_sample_heap(size);
  // A growing buffer (a sampled region block realloc'd by steps, as a reader appends) grows in
  // place or moves by its pages; copying it at every step would make the loop quadratic.
  if (sampled && p != nullptr && g_region.contains(p)) {
    if (void* q = resize_region_block(p, size, ret, cfa)) return q;
  }
  int64_t ours = p != nullptr ? our_size(p) : -1;
  bool moves = ours >= 0 || (sampled && g_real.malloc_usable_size != nullptr);
  if (p != nullptr && !moves) {
    if (g_live.maybe_contains(reinterpret_cast<uintptr_t>(p))) {
      record_free(reinterpret_cast<uintptr_t>(p));
    }
    void* q = g_real.realloc(p, size);
    if (sampled && q != nullptr) {
      record_sampled(BookKind::kHeap, q, static_cast<int64_t>(size), ret, cfa);
    }
    return q;
  }
  void* q = sampled ? sampled_heap_alloc(size, 0, false, ret, cfa) : g_real.malloc(size);
  if (p == nullptr || q == nullptr) return q;  // realloc(nullptr, n) is malloc; on failure p stays
  size_t old = ours >= 0 ? static_cast<size_t>(ours) : g_real.malloc_usable_size(p);
  memcpy(q, p, old < size ? old : size);
  free(p);
  return q;
}

// Dormant: one flag test, then the jump. Sampling on (only after resolution): the countdown.
LEAKSCOPE_EXPORT void* malloc(size_t size) {
  if (LEAKSCOPE_LIKELY(heap_countdown_running(size))) return g_real.malloc(size);
  return malloc_slow(size, true, LEAKSCOPE_HOOK_SITE);
}

// One compare (maybe_ours), then the tail call; nullptr goes to the real free like any other.
// Outside the range g_real.free is known (the range covers everything until it is).
LEAKSCOPE_EXPORT void free(void* p) {
  if (LEAKSCOPE_LIKELY(!maybe_ours(p))) return g_real.free(p);
  free_ours(p);
}

LEAKSCOPE_EXPORT void* calloc(size_t n, size_t size) {
  if (LEAKSCOPE_LIKELY(heap_countdown_running(n * size))) return g_real.calloc(n, size);
  return calloc_slow(n, size, true, LEAKSCOPE_HOOK_SITE);
}

LEAKSCOPE_EXPORT void* realloc(void* p, size_t size) {
  if (LEAKSCOPE_LIKELY(!maybe_ours(p))) {  // g_real.realloc is known: see free
    if (LEAKSCOPE_LIKELY(heap_countdown_running(size))) return g_real.realloc(p, size);
    return realloc_slow(p, size, true, LEAKSCOPE_HOOK_SITE);
  }
  return realloc_slow(p, size, false, LEAKSCOPE_HOOK_SITE);
}

LEAKSCOPE_EXPORT void* reallocarray(void* p, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (LEAKSCOPE_LIKELY(!maybe_ours(p))) {
    if (LEAKSCOPE_LIKELY(heap_countdown_running(total))) return g_real.realloc(p, total);
    return realloc_slow(p, total, true, LEAKSCOPE_HOOK_SITE);
  }
  return realloc_slow(p, total, false, LEAKSCOPE_HOOK_SITE);
}

// The aligned allocators sample power-of-two alignments only (the others are errors the real
// function reports, or glibc's rounding up), deciding before the real call like malloc.
LEAKSCOPE_EXPORT int posix_memalign(void** out, size_t alignment, size_t size) {
  if (!LEAKSCOPE_NEED_REAL(posix_memalign)) {
    *out = bootstrap_block(size, alignment);
    return *out ? 0 : ENOMEM;
  }
  if (alignment % sizeof(void*) == 0 && is_pow2(alignment) && should_sample_heap(size)) {
    void* p = sampled_aligned(size, alignment, LEAKSCOPE_HOOK_SITE);
    if (p == nullptr) return ENOMEM;
    *out = p;
    return 0;
  }
  return g_real.posix_memalign(out, alignment, size);
}

LEAKSCOPE_EXPORT void* memalign(size_t alignment, size_t size) {
  if (!LEAKSCOPE_NEED_REAL(memalign)) return bootstrap_block(size, alignment);
  if (is_pow2(alignment) && should_sample_heap(size)) {
    return sampled_aligned(size, alignment, LEAKSCOPE_HOOK_SITE);
  }
  return g_real.memalign(alignment, size);
}

LEAKSCOPE_EXPORT void* aligned_alloc(size_t alignment, size_t size) {
  if (!LEAKSCOPE_NEED_REAL(aligned_alloc)) return bootstrap_block(size, alignment);
  if (is_pow2(alignment) && should_sample_heap(size)) {
    return sampled_aligned(size, alignment, LEAKSCOPE_HOOK_SITE);
  }
  return g_real.aligned_alloc(alignment, size);
}

LEAKSCOPE_EXPORT void* valloc(size_t size) {
  if (!LEAKSCOPE_NEED_REAL(valloc)) return bootstrap_block(size, 4096);
  if (should_sample_heap(size)) return sampled_aligned(size, 4096, LEAKSCOPE_HOOK_SITE);
  return g_real.valloc(size);
}

LEAKSCOPE_EXPORT void* pvalloc(size_t size) {
  if (!LEAKSCOPE_NEED_REAL(pvalloc)) return bootstrap_block(size, 4096);
  size_t rounded = size == 0 ? 4096 : (size + 4095) & ~size_t{4095};
  if (rounded >= size && should_sample_heap(rounded)) {
    return sampled_aligned(rounded, 4096, LEAKSCOPE_HOOK_SITE);
  }
  return g_real.pvalloc(size);
}

LEAKSCOPE_EXPORT size_t malloc_usable_size(void* p) {
  if (p == nullptr) return 0;
  auto real = g_real.malloc_usable_size;
  if (LEAKSCOPE_LIKELY(!maybe_ours(p)) && LEAKSCOPE_LIKELY(real != nullptr)) return real(p);
  int64_t ours = our_size(p);
  if (ours >= 0) return static_cast<size_t>(ours);
  if (!LEAKSCOPE_NEED_REAL(malloc_usable_size)) return 0;
  return g_real.malloc_usable_size(p);
}

}  // extern "C"
