// Resolution of the real allocation functions (see real_functions.h for the why).
#include "agent/hooks/real_functions.h"

#include <sys/resource.h>

#include <cstring>

#include "agent/heap/region.h"

namespace leakscope::agent {

constinit RealFunctions g_real = {.malloc = &unresolved_malloc, .calloc = &unresolved_calloc};

alignas(64) char g_bootstrap[kBootstrapBytes];
char* g_bootstrap_base = g_bootstrap;
SampleRegion g_region;
// Every free takes the slow path until the real functions are known (narrow_free_range).
FreeRange g_free_range = {g_bootstrap, ~uintptr_t{0}};

namespace {

std::atomic<size_t> g_bootstrap_used{0};
std::atomic<int> g_region_state{0};  // 0: not tried, 1: being reserved, 2: settled

constexpr size_t kRegionBytes = size_t{256} << 30;  // address space only (MAP_NORESERVE)
constexpr size_t kRegionMinBytes = size_t{64} << 20;

// Under an RLIMIT_AS the region's address space counts against the limit: take an eighth of it
// at most, so that the host keeps nearly all of its own.
size_t region_bytes() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kRegionBytes;
  size_t bytes = kRegionBytes;
  while (bytes > limit.rlim_cur / 8 && bytes >= kRegionMinBytes) bytes /= 2;
  return bytes;
}

}  // namespace

void region_reserve_once() {
  if (g_region_state.load(std::memory_order_acquire) == 2) return;
  int expected = 0;
  if (!g_region_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    while (g_region_state.load(std::memory_order_acquire) != 2) __builtin_ia32_pause();
    return;
  }
  if (g_region.reserve(region_bytes(), kRegionMinBytes, kBootstrapBytes)) {
    __atomic_store_n(&g_bootstrap_base, g_region.head(), __ATOMIC_RELAXED);
    __atomic_store_n(&g_free_range.base, g_region.head(), __ATOMIC_RELEASE);  // span is still ~0
  }
  g_region_state.store(2, std::memory_order_release);
}

// Once, when the real functions are first resolved: from then on the free hooks' fast path
// (maybe_ours false) may call g_real.free without testing it. Only the region (with the
// bootstrap buffer at its head), or the static bootstrap buffer alone, stays on the slow path.
// A widening can only come later (record_sampled runs after init, which resolves first).
void narrow_free_range() {
  static std::atomic<bool> narrowed{false};
  if (narrowed.exchange(true)) return;
  region_reserve_once();
  uintptr_t span = g_region.reserved() ? g_region.size() : kBootstrapBytes;
  __atomic_store_n(&g_free_range.span, span, __ATOMIC_RELEASE);
}

void widen_free_range() {
  if (__atomic_load_n(&g_free_range.span, __ATOMIC_RELAXED) != ~uintptr_t{0}) {
    __atomic_store_n(&g_free_range.span, ~uintptr_t{0}, __ATOMIC_SEQ_CST);
  }
}

void* bootstrap_alloc(size_t size, size_t alignment) {
  region_reserve_once();  // first: the buffer is the region's head when it can be
  if (alignment < 16) alignment = 16;
  size_t used = g_bootstrap_used.load(std::memory_order_relaxed);
  for (;;) {
    size_t start = (used + alignment - 1) & ~(alignment - 1);
    if (start + size > kBootstrapBytes || start + size < start) return nullptr;
    if (g_bootstrap_used.compare_exchange_weak(used, start + size)) return g_bootstrap_base + start;
  }
}

bool resolve_real_functions() {
  if (!resolve_hook_group(g_real, "alloc", /*all_or_nothing=*/true)) {
    agent_log("the allocator is not resolved; the agent stays passive");
    return false;
  }
  narrow_free_range();
  return true;
}

}  // namespace leakscope::agent
