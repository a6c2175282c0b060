// The sample region's allocator (see region.h for the layout and why it exists).
//
// Small blocks (chunk of at most 32 KiB with its header and alignment padding): one size class
// per area, four classes per doubling above 128 bytes (at most 25% of a chunk is slack), a bump
// pointer through the area and a free list of chunks given back. The area is made accessible
// 256 KiB at a time as the bump pointer reaches it. Large blocks: whole pages, first fit among the
// freed runs (sorted, coalesced) or from the frontier; each is made accessible when handed out and
// remapped PROT_NONE when freed, so its memory returns to the kernel at once and a fresh large
// block is always zero (calloc need not clear it).
#include "agent/heap/region.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace leakscope::agent {

namespace {

constexpr size_t kHeader = sizeof(BlockHeader);
constexpr size_t kSmallCommit = 256 << 10;
constexpr int64_t kRunCapacity = 1 << 16;

uintptr_t align_up(uintptr_t v, size_t a) { return (v + a - 1) & ~(uintptr_t{a} - 1); }

// Raw system calls: the agent's own mmap hook must not see (or sample) the region.
void* raw_map(void* addr, size_t bytes, int prot, int extra_flags) {
  long p = syscall(SYS_mmap, addr, bytes, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | extra_flags, -1, 0);
  return p < 0 && p > -4096 ? nullptr : reinterpret_cast<void*>(p);
}

// Core dumps: the reservation is MADV_DONTDUMP, or a crash would write (or pipe to a core
// handler) hundreds of GiB of zeros; the parts holding blocks are dumped like the host's heap.
void set_dump(uintptr_t start, size_t bytes, bool dump) {
  syscall(SYS_madvise, start, bytes, dump ? MADV_DODUMP : MADV_DONTDUMP);  // best effort
}

bool make_accessible(uintptr_t start, size_t bytes) {
  if (syscall(SYS_mprotect, start, bytes, PROT_READ | PROT_WRITE) != 0) return false;
  set_dump(start, bytes, true);
  return true;
}

// Gives the pages back: a fresh PROT_NONE mapping over them (memory and commit charge go).
bool make_inaccessible(uintptr_t start, size_t bytes) {
  if (raw_map(reinterpret_cast<void*>(start), bytes, PROT_NONE, MAP_FIXED) == nullptr) return false;
  set_dump(start, bytes, false);
  return true;
}

// The padding in front of a block's header: alignment beyond the header's own 16 bytes.
size_t overhead(size_t alignment) { return alignment > kHeader ? alignment : kHeader; }

void* place(uintptr_t chunk, size_t size, size_t alignment) {
  uintptr_t user = align_up(chunk + kHeader, alignment > kHeader ? alignment : kHeader);
  BlockHeader* h = SampleRegion::header(reinterpret_cast<void*>(user));
  h->size = static_cast<int64_t>(size);
  h->rate_shift = 0;
  h->stack_id = kUnbooked;
  h->offset = static_cast<uint32_t>(user - chunk);
  return reinterpret_cast<void*>(user);
}

}  // namespace

size_t SampleRegion::class_bytes(int c) {
  if (c < 7) return 32 + 16 * static_cast<size_t>(c);  // 32 .. 128
  int k = c - 7;
  size_t group = size_t{128} << (k / 4);
  return group + static_cast<size_t>(k % 4 + 1) * (group / 4);  // 160 .. 32768
}

bool SampleRegion::reserve(size_t bytes, size_t min_bytes, size_t head_bytes) {
  if (reserved() || sysconf(_SC_PAGESIZE) != static_cast<long>(kPage)) return false;
  void* p = nullptr;
  for (; bytes >= min_bytes && p == nullptr; bytes /= 2) p = raw_map(nullptr, bytes, PROT_NONE, 0);
  if (p == nullptr) return false;
  bytes *= 2;  // the loop halved it once more after the successful map
  set_dump(reinterpret_cast<uintptr_t>(p), bytes, false);
  if (head_bytes > 0 && !make_accessible(reinterpret_cast<uintptr_t>(p), head_bytes)) {
    syscall(SYS_munmap, p, bytes);
    return false;
  }
  size_t area = bytes / kAreas;
  int shift = 0;
  while ((size_t{1} << shift) < area) ++shift;
  runs_ = static_cast<Run*>(agent_map(sizeof(Run) * kRunCapacity));
  run_capacity_ = runs_ != nullptr ? kRunCapacity : 0;
  base_ = reinterpret_cast<uintptr_t>(p);
  area_bytes_ = area;
  area_shift_ = shift;
  for (int c = 0; c < kClasses; ++c) {
    classes_[c].next = classes_[c].committed = base_ + static_cast<uintptr_t>(c + 1) * area;
  }
  large_base_ = base_ + static_cast<uintptr_t>(kClasses + 1) * area;
  large_pages_ = (base_ + bytes - large_base_) / kPage;
  size_ = bytes;  // last: contains() is false until the region is ready
  return true;
}

void* SampleRegion::allocate(size_t size, size_t alignment, bool zero) {
  if (!reserved() || alignment == 0 || (alignment & (alignment - 1)) != 0 ||
      alignment > kMaxAlignment || size > size_ / 2) {
    return nullptr;
  }
  size_t need = size + overhead(alignment);
  void* p = nullptr;
  for (int c = 0; c < kClasses && p == nullptr; ++c) {
    if (class_bytes(c) >= need) {
      p = allocate_small(c, size, alignment, zero);
      break;
    }
  }
  if (p == nullptr && need > class_bytes(kClasses - 1)) p = allocate_large(size, alignment, zero);
  if (p != nullptr) live_.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void* SampleRegion::allocate_small(int c, size_t size, size_t alignment, bool zero) {
  SizeClass& sc = classes_[c];
  size_t bytes = class_bytes(c);
  uintptr_t chunk = 0;
  {
    SpinLockHolder hold(sc.lock);
    if (sc.free_list != nullptr) {
      chunk = reinterpret_cast<uintptr_t>(sc.free_list);
      sc.free_list = *static_cast<void**>(sc.free_list);
    } else {
      uintptr_t area_end = base_ + static_cast<uintptr_t>(c + 2) * area_bytes_;
      if (sc.next + bytes > area_end) return nullptr;  // the class's area is full
      if (sc.next + bytes > sc.committed) {
        size_t grow = align_up(bytes > kSmallCommit ? bytes : kSmallCommit, kPage);
        if (sc.committed + grow > area_end) grow = area_end - sc.committed;
        if (!make_accessible(sc.committed, grow)) return nullptr;
        sc.committed += grow;
        committed_.fetch_add(static_cast<int64_t>(grow), std::memory_order_relaxed);
      }
      chunk = sc.next;
      sc.next += bytes;
    }
  }
  void* p = place(chunk, size, alignment);
  if (zero) memset(p, 0, size);
  return p;
}

void* SampleRegion::allocate_large(size_t size, size_t alignment, bool zero) {
  uint64_t pages = align_up(size + overhead(alignment), kPage) / kPage;
  if (void* p = reuse_retained(size, alignment, pages, zero)) return p;
  int64_t start = take_pages(pages);
  if (start < 0) return nullptr;
  uintptr_t chunk = large_base_ + static_cast<uintptr_t>(start) * kPage;
  uintptr_t user = align_up(chunk + kHeader, alignment > kHeader ? alignment : kHeader);
  uint64_t used = align_up(user - chunk + size, kPage) / kPage;
  if (used < pages) give_pages(static_cast<uint64_t>(start) + used, pages - used);
  if (!make_accessible(chunk, used * kPage)) {
    give_pages(static_cast<uint64_t>(start), used);
    return nullptr;
  }
  committed_.fetch_add(static_cast<int64_t>(used * kPage), std::memory_order_relaxed);
  return place(chunk, size, alignment);  // fresh pages: already zero
}

// The smallest retained run of `pages` to twice that; its unused tail stays retained (or goes
// back when no slot is free). None fits: every retained run goes back, and the caller maps.
void* SampleRegion::reuse_retained(size_t size, size_t alignment, uint64_t pages, bool zero) {
  Retained back[kRetainSlots + 1];
  int n_back = 0;
  uintptr_t chunk = 0;
  {
    SpinLockHolder hold(large_lock_);
    if (retained_count_ == 0) return nullptr;
    int best = -1;
    for (int i = 0; i < retained_count_; ++i) {
      const Retained& r = retained_[i];
      if (r.pages >= pages && r.pages <= 2 * pages &&
          (best < 0 || r.pages < retained_[best].pages)) {
        best = i;
      }
    }
    if (best < 0) {
      for (int i = 0; i < retained_count_; ++i) back[n_back++] = retained_[i];
      retained_count_ = 0;
      retained_bytes_ = 0;
    } else {
      Retained r = retained_[best];
      retained_[best] = retained_[--retained_count_];
      retained_bytes_ -= r.pages * kPage;
      chunk = r.chunk;
      uintptr_t user = align_up(chunk + kHeader, alignment > kHeader ? alignment : kHeader);
      uint64_t used = align_up(user - chunk + size, kPage) / kPage;
      if (used < r.pages) {
        Retained tail{chunk + used * kPage, r.pages - used};
        if (retained_count_ < kRetainSlots) {
          retained_[retained_count_++] = tail;
          retained_bytes_ += tail.pages * kPage;
        } else {
          back[n_back++] = tail;
        }
      }
    }
  }
  for (int i = 0; i < n_back; ++i) release_run(back[i].chunk, back[i].pages * kPage);
  if (chunk == 0) return nullptr;
  void* p = place(chunk, size, alignment);
  if (zero) memset(p, 0, size);  // used before: not zero
  return p;
}

void SampleRegion::deallocate(void* p) {
  BlockHeader* h = header(p);
  uintptr_t chunk = reinterpret_cast<uintptr_t>(p) - h->offset;
  size_t area = (chunk - base_) >> area_shift_;
  live_.fetch_sub(1, std::memory_order_relaxed);
  if (area > static_cast<size_t>(kClasses)) {
    deallocate_large(chunk, align_up(h->offset + static_cast<size_t>(h->size), kPage));
    return;
  }
  SizeClass& sc = classes_[area - 1];
  SpinLockHolder hold(sc.lock);
  *reinterpret_cast<void**>(chunk) = sc.free_list;
  sc.free_list = reinterpret_cast<void*>(chunk);
}

void* SampleRegion::resize_large(void* p, size_t size) {
  BlockHeader* h = header(p);
  uintptr_t chunk = reinterpret_cast<uintptr_t>(p) - h->offset;
  if (((chunk - base_) >> area_shift_) <= static_cast<size_t>(kClasses) ||
      size + overhead(16) <= class_bytes(kClasses - 1) || size > size_ / 2) {
    return nullptr;
  }
  uint64_t start = (chunk - large_base_) / kPage;
  uint64_t old_used = align_up(h->offset + static_cast<size_t>(h->size), kPage) / kPage;
  uint64_t new_used = align_up(h->offset + size, kPage) / kPage;
  if (new_used <= old_used) {  // shrinks within its pages
    h->size = static_cast<int64_t>(size);
    if (new_used < old_used) release_run(chunk + new_used * kPage, (old_used - new_used) * kPage);
    return p;
  }
  uint64_t extra = new_used - old_used;
  if (take_pages_at(start + old_used, extra)) {  // the pages after it are free: grows in place
    if (!make_accessible(chunk + old_used * kPage, extra * kPage)) {
      give_pages(start + old_used, extra);
      return nullptr;
    }
    committed_.fetch_add(static_cast<int64_t>(extra * kPage), std::memory_order_relaxed);
    h->size = static_cast<int64_t>(size);
    return p;
  }
  // Moves: the new run's tail made accessible first, then the block's pages moved onto its head
  // (the page tables move, not the bytes); the old run is reserved again and freed. Pages after
  // the new run stay free, so the next growth is usually in place.
  int64_t to = take_pages(new_used);
  if (to < 0) return nullptr;
  uintptr_t dest = large_base_ + static_cast<uintptr_t>(to) * kPage;
  if (!make_accessible(dest + old_used * kPage, extra * kPage)) {
    give_pages(static_cast<uint64_t>(to), new_used);
    return nullptr;
  }
  long moved = syscall(SYS_mremap, chunk, old_used * kPage, old_used * kPage,
                       MREMAP_MAYMOVE | MREMAP_FIXED, dest);
  if (moved != static_cast<long>(dest)) {
    release_run(dest, new_used * kPage);  // nothing moved: the new run goes back whole
    committed_.fetch_add(static_cast<int64_t>(new_used * kPage), std::memory_order_relaxed);
    return nullptr;
  }
  committed_.fetch_add(static_cast<int64_t>(extra * kPage), std::memory_order_relaxed);
  if (raw_map(reinterpret_cast<void*>(chunk), old_used * kPage, PROT_NONE, MAP_FIXED) == nullptr) {
    lost_runs_.fetch_add(1, std::memory_order_relaxed);  // a hole: never handed out again
  } else {
    set_dump(chunk, old_used * kPage, false);
    give_pages(start, old_used);
  }
  void* q = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) - chunk + dest);
  header(q)->size = static_cast<int64_t>(size);
  return q;
}

bool SampleRegion::take_pages_at(uint64_t start, uint64_t pages) {
  SpinLockHolder hold(large_lock_);
  if (start == frontier_) {
    if (pages > large_pages_ - frontier_) return false;
    frontier_ += pages;
    return true;
  }
  for (int64_t i = 0; i < run_count_; ++i) {
    Run& r = runs_[i];
    if (r.start != start) continue;
    if (r.pages < pages) return false;
    r.start += pages;
    r.pages -= pages;
    if (r.pages == 0) {
      memmove(&runs_[i], &runs_[i + 1], sizeof(Run) * static_cast<size_t>(run_count_ - i - 1));
      --run_count_;
    }
    return true;
  }
  return false;
}

void SampleRegion::deallocate_large(uintptr_t chunk, size_t bytes) {
  if (bytes <= kRetainRun) {
    SpinLockHolder hold(large_lock_);
    if (retained_count_ < kRetainSlots && retained_bytes_ + bytes <= kRetainBytes) {
      retained_[retained_count_++] = {chunk, bytes / kPage};
      retained_bytes_ += bytes;
      return;
    }
  }
  release_run(chunk, bytes);
}

void SampleRegion::release_run(uintptr_t chunk, size_t bytes) {
  // Remapped before the run is reusable: another thread may take it the moment it is listed.
  if (!make_inaccessible(chunk, bytes)) {
    lost_runs_.fetch_add(1, std::memory_order_relaxed);  // keep the pages out of reuse
    return;
  }
  committed_.fetch_sub(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  give_pages((chunk - large_base_) / kPage, bytes / kPage);
}

int64_t SampleRegion::take_pages(uint64_t pages) {
  SpinLockHolder hold(large_lock_);
  for (int64_t i = 0; i < run_count_; ++i) {
    Run& r = runs_[i];
    if (r.pages < pages) continue;
    uint64_t start = r.start;
    r.start += pages;
    r.pages -= pages;
    if (r.pages == 0) {
      memmove(&runs_[i], &runs_[i + 1], sizeof(Run) * static_cast<size_t>(run_count_ - i - 1));
      --run_count_;
    }
    return static_cast<int64_t>(start);
  }
  if (pages > large_pages_ - frontier_) return -1;
  uint64_t start = frontier_;
  frontier_ += pages;
  return static_cast<int64_t>(start);
}

void SampleRegion::give_pages(uint64_t start, uint64_t pages) {
  SpinLockHolder hold(large_lock_);
  int64_t i = 0, hi = run_count_;  // i: the first run after `start`
  while (i < hi) {
    int64_t mid = (i + hi) / 2;
    if (runs_[mid].start < start) {
      i = mid + 1;
    } else {
      hi = mid;
    }
  }
  bool joins_prev = i > 0 && runs_[i - 1].start + runs_[i - 1].pages == start;
  bool joins_next = i < run_count_ && start + pages == runs_[i].start;
  if (joins_prev) {
    runs_[i - 1].pages += pages;
    if (joins_next) {
      runs_[i - 1].pages += runs_[i].pages;
      memmove(&runs_[i], &runs_[i + 1], sizeof(Run) * static_cast<size_t>(run_count_ - i - 1));
      --run_count_;
    }
  } else if (joins_next) {
    runs_[i].start = start;
    runs_[i].pages += pages;
  } else if (run_count_ < run_capacity_) {
    memmove(&runs_[i + 1], &runs_[i], sizeof(Run) * static_cast<size_t>(run_count_ - i));
    runs_[i] = {start, pages};
    ++run_count_;
  } else if (start + pages != frontier_) {
    lost_runs_.fetch_add(1, std::memory_order_relaxed);  // address space kept out of reuse
    return;
  } else {
    frontier_ = start;
    return;
  }
  // The last run may now touch the frontier: the frontier takes it back.
  if (run_count_ > 0 && runs_[run_count_ - 1].start + runs_[run_count_ - 1].pages == frontier_) {
    frontier_ = runs_[run_count_ - 1].start;
    --run_count_;
  }
}

void SampleRegion::fork_prepare() {
  for (SizeClass& sc : classes_) sc.lock.lock();
  large_lock_.lock();
}

void SampleRegion::fork_parent() {
  large_lock_.unlock();
  for (SizeClass& sc : classes_) sc.lock.unlock();
}

void SampleRegion::fork_child() {
  large_lock_.reset();
  for (SizeClass& sc : classes_) sc.lock.reset();
}

}  // namespace leakscope::agent
