// LiveSet: the sampled allocations that are still live, keyed by address (after Chromium's
// LockFreeAddressHashSet, base/sampling_heap_profiler/lock_free_address_hash_set.h). It holds
// sampled mappings (mmap_hooks.cc) and, only when the sample region (region.h) could not be
// reserved or a block did not fit in it, sampled heap blocks from the host's allocator; heap
// blocks in the region carry their books in their headers and free() knows them by address range.
//
// An interposer cannot tag pointers or align sampled blocks the way tcmalloc and jemalloc do,
// so every free() must ask "was this address sampled?". Almost always the answer is no, and it
// must cost a few nanoseconds: one hash, one load of a bucket head that is usually null.
//
//   buckets_ [B atomic<Node*>]  B = 2^k, about one bucket per 4 capacity
//      |
//      v
//   Node {atomic key, next, stack, size} -> Node -> ...    (nodes come from a fixed pool)
//
// In front of the buckets sit two counting filters: one cache line of 64 8-bit counters (read by
// every free, so it stays in L1 whatever the host does to the cache), then kFilterSize counters
// (4 KiB). Each live key adds one to the counter its hash selects in both; a counter that
// reaches 255 sticks there (it then always says "maybe", which is safe). With the few dozen
// live samples of a process at the default rate, most frees stop at the first line. A free whose
// counter is zero is answered without touching the bucket array (which is large and cold), so with
// the few hundred live samples of a typical process almost every free costs one L1 load.
//
// Invariants that make lookups lock-free and exact:
//   - nodes are never unlinked or freed: remove() only sets key to 0, insert() reuses a node
//     whose key is 0 (CAS 0 -> address) or pushes a fresh pool node at the bucket head (CAS);
//   - a key is removed by the thread that frees that address, before the real free, so an
//     address is never inserted while its previous sample is still in the set;
//   - a node's payload (stack, size) is written by the inserter after its CAS and read by the
//     remover after its CAS; the program's own ordering of malloc(p) before free(p) orders them.
// So a lookup of a live sampled address always finds its node, and a lookup of any other
// address never matches. The pool is bounded: when it is exhausted insert() fails and the
// sample is counted as untracked (it stays in alloc_* but cannot be subtracted on free).
#pragma once

#include <atomic>
#include <cstdint>

#include "agent/agent_api.h"

namespace leakscope::agent {

class LEAKSCOPE_HIDDEN LiveSet {
 public:
  struct Payload {
    uint32_t stack_id = 0;
    uint32_t kind = 0;      // which profile booked it (heap, mmap)
    int64_t size = 0;       // as sampled: determines the sampling weight
    int64_t remaining = 0;  // bytes still live (mappings shrink on partial munmap)
  };

  // Maps the buckets and the pool for `capacity` live entries; false if the kernel refused.
  bool init(int64_t capacity);

  bool insert(uintptr_t key, const Payload& payload);

  // The first filter line alone: true proves `key` is not in the set (the free hook's inline
  // half); false means ask maybe_contains.
  bool surely_absent(uintptr_t key) const {
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return line_[h >> 58].load(std::memory_order_relaxed) == 0;
  }

  // Fast test for the free path: is `key` possibly in the set? (exact, see above)
  bool maybe_contains(uintptr_t key) const {
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    if (line_[h >> 58].load(std::memory_order_relaxed) == 0) return false;
    if (filter_[filter_of(key)].load(std::memory_order_relaxed) == 0) return false;
    uint64_t mask = mask_.load(std::memory_order_acquire);
    const Node* n = buckets_.load(std::memory_order_relaxed)[bucket_of(key, mask)].load(
        std::memory_order_acquire);
    for (; n != nullptr; n = n->next) {
      if (n->key.load(std::memory_order_relaxed) == key) return true;
    }
    return false;
  }

  // Removes `key`; returns its payload through `out`. False if it was not there.
  bool remove(uintptr_t key, Payload* out);

  // Live entries, counted by a scan of the pool (for the profile's comment; not on a hot path).
  int64_t live() const;
  int64_t capacity() const { return pool_size_; }
  bool ready() const { return pool_ != nullptr; }

 private:
  bool insert_node(uintptr_t key, const Payload& payload);

  struct Node {
    std::atomic<uintptr_t> key{0};
    Node* next = nullptr;  // immutable once the node is linked
    Payload payload;
  };

  static constexpr int kFilterBits = 12;
  static constexpr size_t kFilterSize = size_t{1} << kFilterBits;
  static size_t filter_of(uintptr_t key) {
    return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> (64 - kFilterBits));
  }
  static size_t bucket_of(uintptr_t key, uint64_t mask) {
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return static_cast<size_t>((h >> 29) & mask);
  }
  std::atomic<Node*>* bucket_for(uintptr_t key) const {
    uint64_t mask = mask_.load(std::memory_order_acquire);
    return &buckets_.load(std::memory_order_relaxed)[bucket_of(key, mask)];
  }

  // Before init() (hooks run before the constructor): one empty bucket, mask 0. init()
  // publishes the real array first, then its mask, so a reader that sees the new mask also
  // sees the new array.
  static std::atomic<Node*> empty_bucket_[1];
  std::atomic<std::atomic<Node*>*> buckets_{empty_bucket_};
  std::atomic<uint64_t> mask_{0};
  // Live keys per filter slot. A key's increment happens before its insert is visible and its
  // decrement after its removal, so a zero count proves absence. kSticky is never decremented.
  static constexpr uint8_t kSticky = 255;
  alignas(64) std::atomic<uint8_t> line_[64] = {};  // indexed by the hash's top 6 bits
  std::atomic<uint8_t> filter_[kFilterSize] = {};
  void filter_add(uintptr_t key);
  void filter_remove(uintptr_t key);
  Node* pool_ = nullptr;
  int64_t pool_size_ = 0;
  std::atomic<int64_t> pool_used_{0};
};

}  // namespace leakscope::agent
