// The sampled-allocation books shared by the malloc hooks, the operator new hooks and the mmap
// hooks, and read by the profile routes.
//
// Per stack id, four monotonic counters (SiteCounters): allocated and freed, objects and bytes,
// already unbiased (each sampled object of size S adds weight w = 1/(1-exp(-S/rate)) objects
// and S*w bytes; its free subtracts the same). In-use = allocated - freed, so /allocs is
// cumulative and never decreases, and /heap is exact at rate 1. Objects are kept in fixed point
// (kObjectScale per object) so fractional weights add up without drift.
//
// Index 0 of each array is the overflow site: samples whose stack could not be interned.
// A sampled allocation that cannot be put in the LiveSet (pool full) is booked as allocated
// but counted in `untracked`, since its free can never be matched.
#pragma once

#include "agent/heap/live_set.h"
#include "agent/heap/sampler.h"

namespace leakscope::agent {

inline constexpr int64_t kObjectScale = 1 << 16;

struct SiteCounters {
  std::atomic<int64_t> alloc_objects{0};  // fixed point, kObjectScale per object
  std::atomic<int64_t> alloc_bytes{0};
  std::atomic<int64_t> free_objects{0};
  std::atomic<int64_t> free_bytes{0};
};

enum class BookKind : uint32_t { kHeap = 0, kMmap = 1 };

struct Books {
  SiteCounters* sites = nullptr;  // [stack_table_capacity() + 1], index = stack id
  int64_t size = 0;
  std::atomic<int64_t> untracked{0};  // sampled but not in the LiveSet
};

extern LiveSet g_live __attribute__((visibility("hidden")));
extern Books g_books[2] __attribute__((visibility("hidden")));

// Books one sampled allocation of `size` at `ptr`. `ret` and `cfa` are the hook's return
// address and CFA (LEAKSCOPE_SITE in the hook's own body): the stack is the hook's caller's,
// found through the per-thread cache of validated stacks when the site repeats
// (site_stack_id, track_fds.h), else by a full unwind.
LEAKSCOPE_HIDDEN void record_sampled(BookKind kind, void* ptr, int64_t size, uintptr_t ret,
                                     uintptr_t cfa);

// The interned stack of the call site a hook was entered from (track_fds_stack.cc).
LEAKSCOPE_HIDDEN uint32_t site_stack_id(uintptr_t ret, uintptr_t cfa);

// Evaluated in the body of an exported hook: its return address and CFA.
#define LEAKSCOPE_HOOK_SITE                                                                \
  reinterpret_cast<uintptr_t>(__builtin_extract_return_addr(__builtin_return_address(0))), \
      reinterpret_cast<uintptr_t>(__builtin_dwarf_cfa())

// Books the free of a sampled address (call only when g_live.maybe_contains(ptr)).
LEAKSCOPE_HIDDEN void record_free(uintptr_t ptr);

// A sampled heap allocation (the countdown said so), booked with the hook's site: from the sample
// region (region.h) when it can, else from the host's allocator and booked in the live set.
// alignment 0: malloc's (calloc's when `zero`); else a power of two (posix_memalign's).
LEAKSCOPE_HIDDEN void* sampled_heap_alloc(size_t size, size_t alignment, bool zero, uintptr_t ret,
                                          uintptr_t cfa);

// The slow path of every freeing hook, for p with maybe_ours(p) (malloc_hooks.cc).
LEAKSCOPE_HIDDEN void free_ours(void* p);

// Books the free of a region block (g_region.contains(p)) and gives it back to the region.
LEAKSCOPE_HIDDEN void free_region_block(void* p);
// realloc of a region block to a size that is sampled too: the region resizes it in place or
// moves its pages (SampleRegion::resize_large, no copy), its old sample is unbooked and the new
// one booked. nullptr when the region cannot (a small block or size): the caller copies.
LEAKSCOPE_HIDDEN void* resize_region_block(void* p, size_t size, uintptr_t ret, uintptr_t cfa);

// Shrinks a tracked allocation sampled at `size` with `remaining` bytes live (munmap of part of
// a mapping): `gone` bytes of it vanish; the object goes with the last byte.
LEAKSCOPE_HIDDEN void record_partial_free(uint32_t stack_id, BookKind kind, int64_t size,
                                          int64_t remaining, int64_t gone);

// One book summed over every site (the overflow site included), for /metrics: atomic loads
// only. alloc_* only grow between calls (each site's counters do, and sites are never removed);
// inuse_* are the sums of the per-site figures the profile shows.
struct BookTotals {
  int64_t alloc_objects = 0;
  int64_t alloc_bytes = 0;
  int64_t inuse_objects = 0;
  int64_t inuse_bytes = 0;
  int64_t untracked = 0;  // sampled objects that did not fit the LiveSet
};
LEAKSCOPE_HIDDEN BookTotals book_totals(BookKind kind);

// Builds the profile of one book (heap or mmap), at the configured rate.
LEAKSCOPE_HIDDEN Profile build_books_profile(BookKind kind, bool allocs_default);

}  // namespace leakscope::agent
