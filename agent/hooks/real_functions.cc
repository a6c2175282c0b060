// Resolution of the real allocation functions (see real_functions.h for the why).
#include "agent/hooks/real_functions.h"

#include <cstring>

namespace leakscope::agent {

RealFunctions g_real;

alignas(64) char g_bootstrap[kBootstrapBytes];

namespace {

std::atomic<size_t> g_bootstrap_used{0};

}  // namespace

void* bootstrap_alloc(size_t size, size_t alignment) {
  if (alignment < 16) alignment = 16;
  size_t used = g_bootstrap_used.load(std::memory_order_relaxed);
  for (;;) {
    size_t start = (used + alignment - 1) & ~(alignment - 1);
    if (start + size > sizeof(g_bootstrap) || start + size < start) return nullptr;
    if (g_bootstrap_used.compare_exchange_weak(used, start + size)) return g_bootstrap + start;
  }
}

bool resolve_real_functions() {
  if (resolve_hook_group(g_real, "alloc", /*all_or_nothing=*/true)) return true;
  agent_log("the allocator is not resolved; the agent stays passive");
  return false;
}

}  // namespace leakscope::agent
