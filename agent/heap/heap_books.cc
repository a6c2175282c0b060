// Booking sampled allocations and frees, and turning the books into pprof heap profiles
// (see heap_state.h for the accounting). The hooks call in here only for sampled events.
//
// Order inside record_sampled(), which runs inside the caller's malloc: capture the stack
// first (no lock held: the unwinder may take libgcc's internal once-locks), then intern it (the
// stack table's spin lock, no allocation), then update atomics. Nothing here allocates.
#include <time.h>

#include <cstring>

#include "agent/heap/heap_state.h"
#include "agent/heap/region.h"
#include "agent/hooks/real_functions.h"

namespace leakscope::agent {

LiveSet g_live;
Books g_books[2];

namespace {

SiteCounters& site(BookKind kind, uint32_t id) {
  Books& b = g_books[static_cast<int>(kind)];
  return b.sites[static_cast<int64_t>(id) < b.size ? id : 0];
}

void add_alloc(SiteCounters& s, int64_t size, int64_t rate) {
  double w = sample_weight(size, rate);
  s.alloc_objects.fetch_add(static_cast<int64_t>(w * kObjectScale + 0.5),
                            std::memory_order_relaxed);
  s.alloc_bytes.fetch_add(static_cast<int64_t>(w * static_cast<double>(size) + 0.5),
                          std::memory_order_relaxed);
}

void add_free(SiteCounters& s, int64_t size, int64_t objects_fp, int64_t rate) {
  double w = sample_weight(size, rate);
  s.free_objects.fetch_add(objects_fp, std::memory_order_relaxed);
  s.free_bytes.fetch_add(static_cast<int64_t>(w * static_cast<double>(size) + 0.5),
                         std::memory_order_relaxed);
}

// One site's figures; objects still in fixed point. In-use is clamped at 0: a free may be
// read before the allocation it matches.
struct SiteValues {
  int64_t alloc_objects_fp, alloc_bytes, inuse_objects_fp, inuse_bytes;
};

SiteValues site_values(const SiteCounters& s) {
  int64_t ao = s.alloc_objects.load(std::memory_order_relaxed);
  int64_t ab = s.alloc_bytes.load(std::memory_order_relaxed);
  int64_t fo = s.free_objects.load(std::memory_order_relaxed);
  int64_t fb = s.free_bytes.load(std::memory_order_relaxed);
  int64_t io = ao - fo, ib = ab - fb;
  return {ao, ab, io > 0 ? io : 0, ib > 0 ? ib : 0};
}

int64_t weight_fp(int64_t size, int64_t rate = g_rate) {
  return static_cast<int64_t>(sample_weight(size, rate) * kObjectScale + 0.5);
}

// A live sample's payload kind carries the shift of the rate it was sampled at (the sample
// budget, sampler.h) above the book's kind, so that its free subtracts the weight it added.
constexpr uint32_t kRateShiftBit = 8;

}  // namespace

__attribute__((noinline)) void record_sampled(BookKind kind, void* ptr, int64_t size, uintptr_t ret,
                                              uintptr_t cfa) {
  if (ptr == nullptr) return;
  Books& books = g_books[static_cast<int>(kind)];
  if (books.sites == nullptr) return;
  uint32_t id = site_stack_id(ret, cfa);  // preserves errno; guards itself while unwinding
  ReentryGuard guard;
  if (static_cast<int64_t>(id) >= books.size) id = 0;
  // A heap sample's rate is its thread's at the sample (sampler.h); mappings are at g_rate.
  int32_t shift = kind == BookKind::kHeap ? t_rest.sample_shift : 0;
  add_alloc(site(kind, id), size, rate_of_shift(shift));
  if (kind == BookKind::kHeap && g_region.contains(ptr)) {
    BlockHeader* h = SampleRegion::header(ptr);  // the region block carries its own books
    h->rate_shift = shift;
    h->stack_id = id;
    return;
  }
  // A heap block from the host's allocator (no region, or it did not fit): the free hooks must
  // now look every address up, so they all take the slow path (widen before the block escapes).
  if (kind == BookKind::kHeap) widen_free_range();
  uint32_t tagged = static_cast<uint32_t>(kind) | static_cast<uint32_t>(shift) << kRateShiftBit;
  LiveSet::Payload payload{id, tagged, size, size};
  if (!g_live.insert(reinterpret_cast<uintptr_t>(ptr), payload)) {
    books.untracked.fetch_add(1, std::memory_order_relaxed);
  }
}

__attribute__((noinline)) void record_free(uintptr_t ptr) {
  LiveSet::Payload payload;
  if (!g_live.remove(ptr, &payload)) return;
  BookKind kind = (payload.kind & 0xff) == 1 ? BookKind::kMmap : BookKind::kHeap;
  int64_t rate = rate_of_shift(static_cast<int32_t>(payload.kind >> kRateShiftBit));
  add_free(site(kind, payload.stack_id), payload.size, weight_fp(payload.size, rate), rate);
}

void* sampled_heap_alloc(size_t size, size_t alignment, bool zero, uintptr_t ret, uintptr_t cfa) {
  void* p = g_region.allocate(size, alignment != 0 ? alignment : 16, zero);
  if (p == nullptr) {  // no region, or it is full: the host's block, booked in the live set
    if (alignment == 0) {
      p = zero ? g_real.calloc(1, size) : g_real.malloc(size);
    } else if (g_real.posix_memalign(&p, alignment, size) != 0) {
      p = nullptr;
    }
  }
  if (p != nullptr) record_sampled(BookKind::kHeap, p, static_cast<int64_t>(size), ret, cfa);
  return p;
}

namespace {

void unbook_region_block(const BlockHeader& h) {
  if (h.stack_id == kUnbooked) return;
  int64_t rate = rate_of_shift(h.rate_shift);
  add_free(site(BookKind::kHeap, h.stack_id), h.size, weight_fp(h.size, rate), rate);
}

}  // namespace

void free_region_block(void* p) {
  unbook_region_block(*SampleRegion::header(p));
  g_region.deallocate(p);
}

void* resize_region_block(void* p, size_t size, uintptr_t ret, uintptr_t cfa) {
  BlockHeader old = *SampleRegion::header(p);
  void* q = g_region.resize_large(p, size);
  if (q == nullptr) return nullptr;
  unbook_region_block(old);
  SampleRegion::header(q)->stack_id = kUnbooked;  // until record_sampled books it
  record_sampled(BookKind::kHeap, q, static_cast<int64_t>(size), ret, cfa);
  return q;
}

void record_partial_free(uint32_t stack_id, BookKind kind, int64_t size, int64_t remaining,
                         int64_t gone) {
  // The mapping keeps its sampling weight (it was sampled at its full size); only its bytes
  // shrink. Objects go when the last byte goes.
  SiteCounters& s = site(kind, stack_id);
  double w = sample_weight(size, g_rate);
  s.free_bytes.fetch_add(static_cast<int64_t>(w * static_cast<double>(gone) + 0.5),
                         std::memory_order_relaxed);
  if (gone >= remaining) s.free_objects.fetch_add(weight_fp(size), std::memory_order_relaxed);
}

BookTotals book_totals(BookKind kind) {
  BookTotals t;
  Books& books = g_books[static_cast<int>(kind)];
  if (books.sites == nullptr) return t;
  int64_t count = stack_table_size();
  if (count >= books.size) count = books.size - 1;
  int64_t alloc_fp = 0, inuse_fp = 0;
  for (int64_t id = 0; id <= count; ++id) {
    SiteValues v = site_values(books.sites[id]);
    alloc_fp += v.alloc_objects_fp;
    t.alloc_bytes += v.alloc_bytes;
    inuse_fp += v.inuse_objects_fp;
    t.inuse_bytes += v.inuse_bytes;
  }
  t.alloc_objects = (alloc_fp + kObjectScale / 2) / kObjectScale;
  t.inuse_objects = (inuse_fp + kObjectScale / 2) / kObjectScale;
  t.untracked = books.untracked.load(std::memory_order_relaxed);
  return t;
}

Profile build_books_profile(BookKind kind, bool allocs_default) {
  ProfileBuilder builder({{"alloc_objects", "count"},
                          {"alloc_space", "bytes"},
                          {"inuse_objects", "count"},
                          {"inuse_space", "bytes"}},
                         {"space", "bytes"}, g_rate);
  if (allocs_default) builder.set_default_sample_type("alloc_space");
  Books& books = g_books[static_cast<int>(kind)];
  int64_t count = stack_table_size();
  if (count >= books.size) count = books.size - 1;
  auto values_of = [](const SiteCounters& s) {
    SiteValues v = site_values(s);
    return std::vector<int64_t>{
        (v.alloc_objects_fp + kObjectScale / 2) / kObjectScale, v.alloc_bytes,
        (v.inuse_objects_fp + kObjectScale / 2) / kObjectScale, v.inuse_bytes};
  };
  uintptr_t pcs[kMaxFrames];
  for (int64_t id = 1; id <= count && books.sites != nullptr; ++id) {
    const SiteCounters& s = books.sites[id];
    if (s.alloc_objects.load(std::memory_order_relaxed) == 0) continue;
    int n = stack_pcs(static_cast<uint32_t>(id), pcs, kMaxFrames);
    builder.add(pcs, n, values_of(s));
  }
  int64_t overflow = stack_table_overflow();
  if (books.sites != nullptr && books.sites[0].alloc_objects.load() != 0) {
    builder.add_named("[leakscope: overflow]", values_of(books.sites[0]));
  }
  char line[256];
  snprintf(line, sizeof(line), "leakscope: rate=%ld stacks=%ld/%ld live=%ld/%ld region=%ld",
           static_cast<long>(g_rate), static_cast<long>(stack_table_size()),
           static_cast<long>(stack_table_capacity()), static_cast<long>(g_live.live()),
           static_cast<long>(g_live.capacity()), static_cast<long>(g_region.live_blocks()));
  builder.add_comment(line);
  int32_t shift = kind == BookKind::kHeap ? g_budget_max_shift.load(std::memory_order_relaxed) : 0;
  if (shift > 0) {
    snprintf(line, sizeof(line),
             "leakscope: sample budget: allocation-heavy threads sampled at up to %ld x the rate "
             "(LEAKSCOPE_MAX_SAMPLES_PER_SEC=%ld); values are weighted at each sample's own rate",
             1L << shift, static_cast<long>(g_max_samples_per_sec));
    builder.add_comment(line);
  }
  if (overflow > 0 || books.untracked.load() > 0) {
    snprintf(line, sizeof(line),
             "leakscope: overflow: %ld stacks did not fit the stack table (booked under "
             "[leakscope: overflow]); %ld sampled objects did not fit the live set (their frees "
             "are not subtracted)",
             static_cast<long>(overflow), static_cast<long>(books.untracked.load()));
    builder.add_comment(line);
  }
  if (!g_sampling.load()) builder.add_comment("leakscope: sampling is off (dormant)");
  return builder.finish();
}

}  // namespace leakscope::agent

namespace leakscope::agent {

constinit thread_local CountdownRest t_rest __attribute__((tls_model("initial-exec"))) = {};

void seed_thread_rng(ThreadState& t) {
  // Distinct per thread and per process: the TLS block's address and the time.
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t seed = reinterpret_cast<uintptr_t>(&t) * 0x9e3779b97f4a7c15ull ^
                  static_cast<uint64_t>(ts.tv_nsec) ^ (static_cast<uint64_t>(ts.tv_sec) << 32);
  t.rng = seed != 0 ? seed : 0x853c49e6748fea9bull;
}

}  // namespace leakscope::agent
