// The allocation functions the agent interposes: the alloc group of the hook table
// (hook_table.h), resolved eagerly and all or nothing at init. resolve_real_functions() fills
// g_real from dlsym(RTLD_NEXT, ...). Never __libc_malloc: that would bypass the host's allocator.
//
// Bootstrapping: dlsym() itself calls calloc() (for its error buffer) before calloc is known.
// Hooks called while g_real is incomplete are answered from a small static bump buffer
// (bootstrap_alloc); free() and realloc() recognise its addresses and never pass them on.
#pragma once

#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <cstddef>

#include "agent/agent_internal.h"
#include "agent/hooks/hook_table.h"

// X(name, required)
#define LEAKSCOPE_ALLOC_FUNCTIONS(X) \
  X(malloc, true)                    \
  X(free, true)                      \
  X(calloc, true)                    \
  X(realloc, true)                   \
  X(reallocarray, false)             \
  X(memalign, false)                 \
  X(posix_memalign, true)            \
  X(aligned_alloc, false)            \
  X(valloc, false)                   \
  X(pvalloc, false)                  \
  X(malloc_usable_size, false)       \
  X(mmap, true)                      \
  X(munmap, true)                    \
  X(mremap, false)

namespace leakscope::agent {

LEAKSCOPE_HOOK_GROUP(RealFunctions, LEAKSCOPE_ALLOC_FUNCTIONS);

extern RealFunctions g_real __attribute__((visibility("hidden")));

// Resolves every entry once; returns false (after logging) if a required one is missing, in
// which case the hooks use the bootstrap buffer forever and never sample (fail open as far as
// possible: a process without a malloc to forward to cannot be helped).
LEAKSCOPE_HIDDEN bool resolve_real_functions();

// The static bump buffer that answers allocations made during dlsym (never freed).
LEAKSCOPE_HIDDEN void* bootstrap_alloc(size_t size, size_t alignment);

inline constexpr size_t kBootstrapBytes = 64 << 10;  // far more than dlsym needs
extern char g_bootstrap[kBootstrapBytes] __attribute__((visibility("hidden")));

// On every free(): one unsigned compare (an address below the buffer wraps to a huge offset).
inline bool is_bootstrap(const void* p) {
  return reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(g_bootstrap) <
         kBootstrapBytes;
}

}  // namespace leakscope::agent
