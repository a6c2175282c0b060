// jemalloc's non-standard calls that take a block: sdallocx, dallocx, sallocx, rallocx, xallocx.
// A program linked with jemalloc may pass them a block it got from malloc, and with the agent in
// front of jemalloc that block may be a sampled one from the agent's sample region (region.h),
// which jemalloc does not own. So the agent interposes them too: a block of ours is handled here
// (freed through free_ours, sized from its header, moved to a new block), any other goes to
// jemalloc's function. nallocx, mallocx and mallctl take no block and are not interposed.
//
// In a process without jemalloc nothing calls these (the program could not have linked), but a
// library may probe for them by name: without a next definition each falls back to its standard
// equivalent (free, malloc_usable_size, realloc), so a probe that finds the agent's still works.
#include <string.h>

#include "agent/heap/heap_state.h"
#include "agent/hooks/real_functions.h"
#include "agent/heap/region.h"

using namespace leakscope::agent;

namespace {

constexpr int kLgAlignMask = 0x3f;  // MALLOCX_LG_ALIGN(la) is la in the low six bits
constexpr int kZero = 0x40;         // MALLOCX_ZERO

// The size of a region or bootstrap block; -1 for any other.
int64_t our_block_size(const void* p) {
  if (is_bootstrap(p)) {
    size_t size;
    memcpy(&size, static_cast<const char*>(p) - sizeof(size_t), sizeof(size_t));
    return static_cast<int64_t>(size);
  }
  if (g_region.contains(p)) return SampleRegion::header(const_cast<void*>(p))->size;
  return -1;
}

// A new block for rallocx's move of one of ours: sampled or not as the new size decides.
void* new_block(size_t size, int flags) {
  int lg = flags & kLgAlignMask;
  size_t alignment = lg != 0 ? size_t{1} << lg : 0;
  bool zero = (flags & kZero) != 0;
  void* q = nullptr;
  if (alignment > 16) {
    if (posix_memalign(&q, alignment, size) != 0) return nullptr;
    if (zero) memset(q, 0, size);
    return q;
  }
  return zero ? calloc(1, size) : malloc(size);
}

}  // namespace

extern "C" {

LEAKSCOPE_EXPORT void sdallocx(void* p, size_t size, int flags) {
  if (LEAKSCOPE_LIKELY(!maybe_ours(p)) && g_real.sdallocx != nullptr) {
    return g_real.sdallocx(p, size, flags);
  }
  free(p);
}

LEAKSCOPE_EXPORT void dallocx(void* p, int flags) {
  if (LEAKSCOPE_LIKELY(!maybe_ours(p)) && g_real.dallocx != nullptr)
    return g_real.dallocx(p, flags);
  free(p);
}

LEAKSCOPE_EXPORT size_t sallocx(const void* p, int flags) {
  if (LEAKSCOPE_LIKELY(!maybe_ours(p)) && g_real.sallocx != nullptr)
    return g_real.sallocx(p, flags);
  int64_t ours = our_block_size(p);
  if (ours >= 0) return static_cast<size_t>(ours);
  return malloc_usable_size(const_cast<void*>(p));
}

// A block of ours cannot grow or shrink in place: its size stays.
LEAKSCOPE_EXPORT size_t xallocx(void* p, size_t size, size_t extra, int flags) {
  if (LEAKSCOPE_LIKELY(!maybe_ours(p)) && g_real.xallocx != nullptr) {
    return g_real.xallocx(p, size, extra, flags);
  }
  int64_t ours = our_block_size(p);
  if (ours >= 0) return static_cast<size_t>(ours);
  return malloc_usable_size(p);
}

LEAKSCOPE_EXPORT void* rallocx(void* p, size_t size, int flags) {
  int64_t ours = maybe_ours(p) ? our_block_size(p) : -1;
  if (ours < 0) {
    if (g_real.rallocx == nullptr) return realloc(p, size);  // no jemalloc below
    if (maybe_ours(p) && g_live.maybe_contains(reinterpret_cast<uintptr_t>(p))) {
      record_free(reinterpret_cast<uintptr_t>(p));  // a sampled host block (no region)
    }
    return g_real.rallocx(p, size, flags);
  }
  void* q = new_block(size, flags);
  if (q == nullptr) return nullptr;
  size_t old = static_cast<size_t>(ours);
  memcpy(q, p, old < size ? old : size);
  free(p);
  return q;
}

}  // extern "C"
