// The sample region: where sampled heap blocks live, so that free() can tell a sampled block
// from any other with one unsigned compare (GWP-ASan's idea; DESIGN.md, "free() must be cheap").
//
// An interposer owns no allocator, so without a region every free() must look its address up in
// a table of sampled addresses (live_set.h). Instead, a sampled malloc takes its block from a
// range of address space the agent reserved at start-up, and every freeing entry point asks
// maybe_ours(p): `p - base < span`. Almost every free answers no and tail-calls the real free.
//
// Layout (one reservation, PROT_NONE and MAP_NORESERVE: address space only; pages are made
// accessible as they are handed out, so only blocks in use cost memory):
//
//   base                                                                       base + size
//   | area 0 | area 1 .. area kClasses | area kClasses+1 .. area kAreas-1             |
//   |bootstrap| one size class per area| large blocks: page runs, first fit          |
//
//   size = 256 GiB, at most an eighth of RLIMIT_AS when one is set, halved down to 64 MiB while
//   the kernel refuses;
//   area = size / kAreas. Area 0 starts with the bootstrap buffer (real_functions.h).
//
// Every block has a 16-byte BlockHeader just before it: the size asked for (and sampled), the
// stack it was booked under, and its offset from the start of its chunk (aligned blocks). The
// class of a chunk is its area, so no other metadata is needed. Small classes keep their freed
// chunks on a per-class free list (memory is kept, as every allocator does); large blocks are
// whole pages, given back to the kernel on free (remapped PROT_NONE: memory and commit charge
// go) and their address space reused first fit, coalesced with its neighbours.
//
// Core dumps leave the reservation out (MADV_DONTDUMP) but include the pages holding blocks.
//
// Locks: one per class and one for the large runs, held for a few list operations, never across
// an unwind or a call into another allocator (the large path's mprotect/mmap are outside it).
// They are leaves: fork_prepare takes them all, the parent releases them, the child resets them
// (its copy of the region, free lists included, stays valid: the mapping is private).
//
// When the region cannot be reserved, or a sampled block does not fit in it, the block comes from
// the host's allocator and is booked in the live set as before; widen_free_range() then sends
// every free to the slow path, which looks the live set up (fail open: slower, still right).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "agent/agent_internal.h"

namespace leakscope::agent {

struct BlockHeader {
  // Bytes asked for: the sampled size and malloc_usable_size (56 bits: more than any address
  // space), and the sample's rate as a shift of LEAKSCOPE_RATE (the sample budget, sampler.h),
  // so its free takes back exactly the weight its sample added.
  int64_t size : 56;
  int64_t rate_shift : 8;
  uint32_t stack_id;  // the site it was booked under; kUnbooked if it was not booked
  uint32_t offset;    // the block's address minus its chunk's (alignment padding + header)
};
static_assert(sizeof(BlockHeader) == 16, "blocks are 16-byte aligned behind their header");
inline constexpr uint32_t kUnbooked = ~uint32_t{0};

class LEAKSCOPE_HIDDEN SampleRegion {
 public:
  static constexpr int kAreas = 64;
  static constexpr int kClasses = 39;  // chunk sizes 32 .. 32 KiB (class_bytes)
  static constexpr size_t kPage = 4096;
  static constexpr size_t kMaxAlignment = size_t{1} << 30;

  // Reserves about `bytes` of address space (halving down to `min_bytes`); false if none. The
  // first `head_bytes` of area 0 are made accessible for the caller (head()).
  bool reserve(size_t bytes, size_t min_bytes, size_t head_bytes = 0);
  char* head() const { return reinterpret_cast<char*>(base_); }
  bool reserved() const { return size_ != 0; }
  uintptr_t base() const { return base_; }
  size_t size() const { return size_; }
  // True for a block this region handed out (false for the bootstrap area and anything else).
  bool contains(const void* p) const {
    uintptr_t off = reinterpret_cast<uintptr_t>(p) - base_;
    return off - area_bytes_ < size_ - area_bytes_;
  }

  // A block of `size` bytes aligned to `alignment` (a power of two), zeroed if `zero`; its header
  // says kUnbooked. nullptr when the region is absent, full, or the alignment too large.
  void* allocate(size_t size, size_t alignment, bool zero);
  // Gives a block back (p must satisfy contains()).
  void deallocate(void* p);
  // A large block (p must satisfy contains()) resized to `size` bytes, still large: in place
  // when it shrinks or the pages after it are free, else its pages moved to a new run with
  // mremap (no copy). Its header keeps its books but for the size. nullptr when it cannot (a
  // small block or size, the region full): the caller copies.
  void* resize_large(void* p, size_t size);
  static BlockHeader* header(void* p) { return static_cast<BlockHeader*>(p) - 1; }

  int64_t live_blocks() const { return live_.load(std::memory_order_relaxed); }
  int64_t committed_bytes() const { return committed_.load(std::memory_order_relaxed); }
  int64_t lost_runs() const { return lost_runs_.load(std::memory_order_relaxed); }

  void fork_prepare();
  void fork_parent();
  void fork_child();

  // The chunk size of class c (header included); exposed for the tests.
  static size_t class_bytes(int c);

 private:
  struct alignas(64) SizeClass {
    SpinLock lock;
    void* free_list = nullptr;  // freed chunks, linked through their first word
    uintptr_t next = 0;         // first chunk never handed out
    uintptr_t committed = 0;    // end of the accessible part of the area
  };
  struct Run {
    uint64_t start;  // page index in the large part
    uint64_t pages;
  };

  void* allocate_small(int c, size_t size, size_t alignment, bool zero);
  void* allocate_large(size_t size, size_t alignment, bool zero);
  void* reuse_retained(size_t size, size_t alignment, uint64_t pages, bool zero);
  void deallocate_large(uintptr_t chunk, size_t bytes);
  void release_run(uintptr_t chunk, size_t bytes);     // back to PROT_NONE, then reusable
  int64_t take_pages(uint64_t pages);                  // page index, or -1
  bool take_pages_at(uint64_t start, uint64_t pages);  // exactly those pages, if free
  void give_pages(uint64_t start, uint64_t pages);

  uintptr_t base_ = 0;
  size_t size_ = 0;
  size_t area_bytes_ = 0;
  int area_shift_ = 0;
  SizeClass classes_[kClasses];

  // Large blocks: page runs of [large_base_, large_base_ + large_pages_ * kPage).
  alignas(64) SpinLock large_lock_;
  uintptr_t large_base_ = 0;
  uint64_t large_pages_ = 0;
  uint64_t frontier_ = 0;  // pages below it were handed out at least once
  Run* runs_ = nullptr;    // free runs below the frontier, sorted by start, coalesced
  int64_t run_count_ = 0;
  int64_t run_capacity_ = 0;
  // Freed large runs kept accessible (and resident) for the next block of about their size, as
  // an allocator keeps freed memory: a program that takes and frees a 1 MiB buffer per request
  // would otherwise pay two system calls and 256 page faults for each (20x glibc's time).
  // Bounded: runs up to kRetainRun bytes, kRetainSlots of them, kRetainBytes in all; a block no
  // retained run fits gives them all back first (so freed neighbours coalesce as before).
  static constexpr int kRetainSlots = 16;
  static constexpr size_t kRetainRun = size_t{8} << 20;
  static constexpr size_t kRetainBytes = size_t{32} << 20;
  struct Retained {
    uintptr_t chunk;
    uint64_t pages;
  };
  Retained retained_[kRetainSlots] = {};  // [0, retained_count_), under large_lock_
  int retained_count_ = 0;
  size_t retained_bytes_ = 0;

  alignas(64) std::atomic<int64_t> live_{0};
  std::atomic<int64_t> committed_{0};
  std::atomic<int64_t> lost_runs_{0};  // freed runs the full run table could not keep
};

extern SampleRegion g_region __attribute__((visibility("hidden")));

// What every freeing hook reads: addresses in [base, base + span) may be the agent's (a
// bootstrap block, a region block, or, once widened, a host block booked in the live set).
// span is ~0 (every address) until the real functions are resolved, so that an address outside
// the range can go straight to g_real.free without testing it for null.
struct alignas(64) FreeRange {
  const char* base;
  uintptr_t span;
};
extern FreeRange g_free_range __attribute__((visibility("hidden")));

inline bool maybe_ours(const void* p) {
  uintptr_t base =
      reinterpret_cast<uintptr_t>(__atomic_load_n(&g_free_range.base, __ATOMIC_RELAXED));
  return reinterpret_cast<uintptr_t>(p) - base <
         __atomic_load_n(&g_free_range.span, __ATOMIC_RELAXED);
}

// Reserves g_region once (before the first bootstrap block: the bootstrap buffer is its area 0)
// and points g_free_range at it. Idempotent and thread-safe; raw system calls only.
LEAKSCOPE_HIDDEN void region_reserve_once();

// Called once the real functions are resolved: the range shrinks from every address to the
// region (or the static bootstrap buffer when there is no region).
LEAKSCOPE_HIDDEN void narrow_free_range();

// A sampled heap block now lives outside the region (booked in the live set): every free takes
// the slow path from here on.
LEAKSCOPE_HIDDEN void widen_free_range();

}  // namespace leakscope::agent
