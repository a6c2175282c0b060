// Resolution of the real allocation functions (see real_functions.h for the why).
#include "agent/real_functions.h"

#include <dlfcn.h>

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
  ReentryGuard guard;
  bool ok = true;
  RealFunctions resolved;
#define LEAKSCOPE_RESOLVE(name, required)                                                 \
  resolved.name = reinterpret_cast<decltype(&::name)>(dlsym(RTLD_NEXT, #name));           \
  if (resolved.name == nullptr && required) {                                             \
    agent_log("cannot resolve " #name " with dlsym(RTLD_NEXT); the agent stays passive"); \
    ok = false;                                                                           \
  }
  LEAKSCOPE_ALLOC_FUNCTIONS(LEAKSCOPE_RESOLVE)
#undef LEAKSCOPE_RESOLVE
  if (!ok) return false;
    // Publish entry by entry: another thread may already be calling through g_real.
#define LEAKSCOPE_PUBLISH(name, required) \
  __atomic_store_n(&g_real.name, resolved.name, __ATOMIC_RELEASE);
  LEAKSCOPE_ALLOC_FUNCTIONS(LEAKSCOPE_PUBLISH)
#undef LEAKSCOPE_PUBLISH
  return true;
}

}  // namespace leakscope::agent
