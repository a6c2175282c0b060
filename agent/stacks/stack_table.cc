// The stack table: every distinct sampled stack, interned once, named by a small id.
//
// Layout (all from agent_map, sized once from the memory budget, never grown):
//
//   index_   [H uint32 ids, open addressing on the stack hash, 0 = empty]   H = 2^k >= 2 * E
//   entries_ [E Entry {hash, first frame, frame count}]                    id = position + 1
//   frames_  [F uintptr_t, entries' frames back to back]                   append only
//
// Lookups are lock-free (a hit, the common case, takes no lock): index slots only ever go from
// 0 to an id, written with release after the entry is complete. A miss takes the spin lock,
// looks again and inserts; the caller has already unwound, so the lock is never held across an
// unwind or an allocation. Entries are append only: once intern_stack() returned an
// id, stack_pcs(id) reads it without a lock (the entry count is published with release).
// When the entries or the frame arena are full, intern_stack() returns 0 and counts the event:
// the caller books it under the "[leakscope: overflow]" pseudo-frame. A leak detector must not
// become the leak (golang/go#69590), so nothing here ever grows past its budget.
#include <cstring>

#include "agent/agent_internal.h"

namespace leakscope::agent {

namespace {

struct Entry {
  uint64_t hash;
  uint32_t first;  // index into frames_
  uint32_t count;
};

SpinLock g_lock;
std::atomic<uint32_t>* g_index = nullptr;  // written under g_lock (0 -> id, once), read freely
uint64_t g_index_mask = 0;
Entry* g_entries = nullptr;
uintptr_t* g_frames = nullptr;
int64_t g_entry_cap = 0;
int64_t g_frame_cap = 0;
std::atomic<int64_t> g_entry_count{0};  // published with release after the entry is written
int64_t g_frame_count = 0;              // guarded by g_lock
std::atomic<int64_t> g_overflow{0};

uint64_t hash_pcs(const uintptr_t* pcs, int n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ static_cast<uint64_t>(n);
  for (int i = 0; i < n; ++i) {
    h ^= pcs[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return h | 1;  // never 0
}

}  // namespace

void stack_table_init(int64_t budget_bytes) {
  // A stack averages well under 32 frames; give the arena 24 frames per entry on average.
  constexpr int64_t kFramesPerEntry = 24;
  int64_t per_entry = sizeof(Entry) + kFramesPerEntry * sizeof(uintptr_t) + 2 * sizeof(uint32_t);
  int64_t entries = budget_bytes / per_entry;
  if (entries < 1024) entries = 1024;
  if (entries > (1 << 24)) entries = 1 << 24;
  uint64_t index_size = 1;
  while (index_size < static_cast<uint64_t>(2 * entries)) index_size <<= 1;
  g_index = static_cast<std::atomic<uint32_t>*>(agent_map(index_size * sizeof(uint32_t)));
  g_entries = static_cast<Entry*>(agent_map(entries * sizeof(Entry)));
  g_frames = static_cast<uintptr_t*>(agent_map(entries * kFramesPerEntry * sizeof(uintptr_t)));
  if (!g_index || !g_entries || !g_frames) {
    agent_log("cannot map the stack table; stacks are counted as overflow");
    return;
  }
  g_index_mask = index_size - 1;
  g_entry_cap = entries;
  g_frame_cap = entries * kFramesPerEntry;
}

namespace {

// The id of the stack (hash h) if it is in the index, else 0. Lock-free.
uint32_t find(const uintptr_t* pcs, int n, uint64_t h) {
  for (uint64_t slot = h & g_index_mask;; slot = (slot + 1) & g_index_mask) {
    uint32_t id = g_index[slot].load(std::memory_order_acquire);
    if (id == 0) return 0;
    const Entry& e = g_entries[id - 1];
    if (e.hash == h && e.count == static_cast<uint32_t>(n) &&
        memcmp(g_frames + e.first, pcs, n * sizeof(uintptr_t)) == 0) {
      return id;
    }
  }
}

}  // namespace

uint32_t intern_stack(const uintptr_t* pcs, int n) {
  if (n < 0) n = 0;
  if (n > kMaxFrames) n = kMaxFrames;
  if (g_entry_cap == 0) {
    g_overflow.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  uint64_t h = hash_pcs(pcs, n);
  if (uint32_t id = find(pcs, n, h)) return id;
  SpinLockHolder hold(g_lock);
  if (uint32_t id = find(pcs, n, h)) return id;
  int64_t count = g_entry_count.load(std::memory_order_relaxed);
  if (count >= g_entry_cap || g_frame_count + n > g_frame_cap) {
    g_overflow.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  Entry& e = g_entries[count];
  e.hash = h;
  e.first = static_cast<uint32_t>(g_frame_count);
  e.count = static_cast<uint32_t>(n);
  memcpy(g_frames + g_frame_count, pcs, n * sizeof(uintptr_t));
  g_frame_count += n;
  uint32_t id = static_cast<uint32_t>(count + 1);
  g_entry_count.store(count + 1, std::memory_order_release);
  for (uint64_t slot = h & g_index_mask;; slot = (slot + 1) & g_index_mask) {
    if (g_index[slot].load(std::memory_order_relaxed) == 0) {
      g_index[slot].store(id, std::memory_order_release);
      break;
    }
  }
  return id;
}

int stack_pcs(uint32_t id, uintptr_t* out, int max) {
  if (id == 0 || static_cast<int64_t>(id) > g_entry_count.load(std::memory_order_acquire)) {
    return 0;
  }
  const Entry& e = g_entries[id - 1];
  int n = static_cast<int>(e.count) < max ? static_cast<int>(e.count) : max;
  memcpy(out, g_frames + e.first, n * sizeof(uintptr_t));
  return n;
}

int64_t stack_table_overflow() { return g_overflow.load(std::memory_order_relaxed); }
int64_t stack_table_size() { return g_entry_count.load(std::memory_order_acquire); }
int64_t stack_table_capacity() { return g_entry_cap; }

void stack_table_fork_prepare() { g_lock.lock(); }
void stack_table_fork_parent() { g_lock.unlock(); }
void stack_table_fork_child() { g_lock.reset(); }

}  // namespace leakscope::agent
