// mmap, munmap and mremap of anonymous memory, sampled like the heap and booked separately:
// /debug/pprof/mmap has the heap profile's four sample types. Programs and allocators (jemalloc,
// Go's runtime, arenas) that take memory straight from the kernel show up here.
//
// Bookkeeping: a sampled mapping is a LiveSet entry keyed by its start address + 1 (kind kMmap):
// mappings are page aligned and heap blocks at least 8-byte aligned, so the +1 keeps the two
// kinds of key apart even when an allocator hands out the first bytes of a fresh mapping.
// munmap of a tracked start address removes it; a munmap of its head re-inserts the rest at the
// new start; munmaps that begin inside a tracked mapping are not matched (rare: counted in no
// book, the mapping stays booked until its start is unmapped). mremap is a free of the old
// mapping plus a new sampled mapping. File mappings are passed through untouched.
#include <stdarg.h>
#include <sys/mman.h>

#include "agent/heap/heap_state.h"
#include "agent/hooks/real_functions.h"

using namespace leakscope::agent;

namespace {

inline bool should_sample_mmap(size_t size) { return should_sample(t_state.mmap_countdown, size); }

uintptr_t key_of(const void* start) { return reinterpret_cast<uintptr_t>(start) | 1; }

void book_unmap(void* addr, size_t length) {
  uintptr_t key = key_of(addr);
  if (!g_live.maybe_contains(key)) return;
  LiveSet::Payload payload;
  if (!g_live.remove(key, &payload)) return;
  int64_t len = static_cast<int64_t>(length);
  int64_t gone = len < payload.remaining ? len : payload.remaining;
  record_partial_free(payload.stack_id, BookKind::kMmap, payload.size, payload.remaining, gone);
  if (gone < payload.remaining) {
    LiveSet::Payload rest = payload;  // keeps the sampled size for the sampling weight
    rest.remaining = payload.remaining - gone;
    g_live.insert(key_of(static_cast<char*>(addr) + length), rest);
  }
}

inline bool resolved() {
  return g_real.mmap != nullptr || (!in_agent() && resolve_real_functions());
}

}  // namespace

extern "C" {

LEAKSCOPE_EXPORT void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t off) {
  if (!resolved()) return MAP_FAILED;
  void* p = g_real.mmap(addr, length, prot, flags, fd, off);
  if ((flags & MAP_ANONYMOUS) && p != MAP_FAILED && should_sample_mmap(length)) {
    record_sampled(BookKind::kMmap, reinterpret_cast<void*>(key_of(p)),
                   static_cast<int64_t>(length), LEAKSCOPE_HOOK_SITE);
  }
  return p;
}

LEAKSCOPE_EXPORT void* mmap64(void* addr, size_t length, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));

LEAKSCOPE_EXPORT int munmap(void* addr, size_t length) {
  if (!resolved()) return -1;
  book_unmap(addr, length);
  return g_real.munmap(addr, length);
}

LEAKSCOPE_EXPORT void* mremap(void* old, size_t old_size, size_t new_size, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  void* new_addr = va_arg(ap, void*);
  va_end(ap);
  if (!resolved() || g_real.mremap == nullptr) return MAP_FAILED;
  bool tracked = g_live.maybe_contains(key_of(old));
  if (tracked) book_unmap(old, old_size);
  void* p = g_real.mremap(old, old_size, new_size, flags, new_addr);
  if (p != MAP_FAILED && (tracked || should_sample_mmap(new_size))) {
    record_sampled(BookKind::kMmap, reinterpret_cast<void*>(key_of(p)),
                   static_cast<int64_t>(new_size), LEAKSCOPE_HOOK_SITE);
  }
  return p;
}

}  // extern "C"
