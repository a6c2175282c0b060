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
#include <new>

#include "agent/agent_internal.h"
#include "agent/hooks/hook_table.h"

// jemalloc's non-standard calls that take a block (jemalloc_hooks.cc); not in libc's headers.
extern "C" {
void sdallocx(void* p, size_t size, int flags);
void dallocx(void* p, int flags);
size_t sallocx(const void* p, int flags);
void* rallocx(void* p, size_t size, int flags);
size_t xallocx(void* p, size_t size, size_t extra, int flags);
}

// gperftools' tc_* calls that take a block (tcmalloc_hooks.cc), as its tcmalloc.h declares them.
extern "C" {
void tc_free(void* p) noexcept;
void tc_cfree(void* p) noexcept;
void tc_free_sized(void* p, size_t size) noexcept;
void* tc_realloc(void* p, size_t size) noexcept;
size_t tc_malloc_size(void* p) noexcept;
void tc_delete(void* p) noexcept;
void tc_deletearray(void* p) noexcept;
void tc_delete_sized(void* p, size_t size) noexcept;
void tc_deletearray_sized(void* p, size_t size) noexcept;
void tc_delete_nothrow(void* p, const std::nothrow_t&) noexcept;
void tc_deletearray_nothrow(void* p, const std::nothrow_t&) noexcept;
void tc_delete_aligned(void* p, std::align_val_t al) noexcept;
void tc_deletearray_aligned(void* p, std::align_val_t al) noexcept;
void tc_delete_sized_aligned(void* p, size_t size, std::align_val_t al) noexcept;
void tc_deletearray_sized_aligned(void* p, size_t size, std::align_val_t al) noexcept;
void tc_delete_aligned_nothrow(void* p, std::align_val_t al, const std::nothrow_t&) noexcept;
void tc_deletearray_aligned_nothrow(void* p, std::align_val_t al, const std::nothrow_t&) noexcept;
}

// The tc_* calls that free a block: (name, parameters, arguments).
#define LEAKSCOPE_TC_FREES(X)                                                                 \
  X(tc_free, (void* p), (p))                                                                  \
  X(tc_cfree, (void* p), (p))                                                                 \
  X(tc_free_sized, (void* p, size_t size), (p, size))                                         \
  X(tc_delete, (void* p), (p))                                                                \
  X(tc_deletearray, (void* p), (p))                                                           \
  X(tc_delete_sized, (void* p, size_t size), (p, size))                                       \
  X(tc_deletearray_sized, (void* p, size_t size), (p, size))                                  \
  X(tc_delete_nothrow, (void* p, const std::nothrow_t& nt), (p, nt))                          \
  X(tc_deletearray_nothrow, (void* p, const std::nothrow_t& nt), (p, nt))                     \
  X(tc_delete_aligned, (void* p, std::align_val_t al), (p, al))                               \
  X(tc_deletearray_aligned, (void* p, std::align_val_t al), (p, al))                          \
  X(tc_delete_sized_aligned, (void* p, size_t size, std::align_val_t al), (p, size, al))      \
  X(tc_deletearray_sized_aligned, (void* p, size_t size, std::align_val_t al), (p, size, al)) \
  X(tc_delete_aligned_nothrow, (void* p, std::align_val_t al, const std::nothrow_t& nt),      \
    (p, al, nt))                                                                              \
  X(tc_deletearray_aligned_nothrow, (void* p, std::align_val_t al, const std::nothrow_t& nt), \
    (p, al, nt))

// X(name, required)
#define LEAKSCOPE_ALLOC_FUNCTIONS(X)     \
  X(malloc, true)                        \
  X(free, true)                          \
  X(calloc, true)                        \
  X(realloc, true)                       \
  X(reallocarray, false)                 \
  X(memalign, false)                     \
  X(posix_memalign, true)                \
  X(aligned_alloc, false)                \
  X(valloc, false)                       \
  X(pvalloc, false)                      \
  X(malloc_usable_size, false)           \
  X(mmap, true)                          \
  X(munmap, true)                        \
  X(mremap, false)                       \
  X(sdallocx, false)                     \
  X(dallocx, false)                      \
  X(sallocx, false)                      \
  X(rallocx, false)                      \
  X(xallocx, false)                      \
  X(tc_realloc, false)                   \
  X(tc_malloc_size, false)               \
  X(tc_free, false)                      \
  X(tc_cfree, false)                     \
  X(tc_free_sized, false)                \
  X(tc_delete, false)                    \
  X(tc_deletearray, false)               \
  X(tc_delete_sized, false)              \
  X(tc_deletearray_sized, false)         \
  X(tc_delete_nothrow, false)            \
  X(tc_deletearray_nothrow, false)       \
  X(tc_delete_aligned, false)            \
  X(tc_deletearray_aligned, false)       \
  X(tc_delete_sized_aligned, false)      \
  X(tc_deletearray_sized_aligned, false) \
  X(tc_delete_aligned_nothrow, false)    \
  X(tc_deletearray_aligned_nothrow, false)

namespace leakscope::agent {

LEAKSCOPE_HOOK_GROUP(RealFunctions, LEAKSCOPE_ALLOC_FUNCTIONS);

// malloc and calloc start as the two functions below, not null: their hooks' fast paths (a
// dormant malloc is one flag test and the jump) call g_real.malloc untested. Until resolution
// they resolve, or answer from the bootstrap buffer (malloc_hooks.cc).
extern RealFunctions g_real __attribute__((visibility("hidden")));
LEAKSCOPE_HIDDEN void* unresolved_malloc(size_t size) noexcept;
LEAKSCOPE_HIDDEN void* unresolved_calloc(size_t n, size_t size) noexcept;

// Resolves every entry once; returns false (after logging) if a required one is missing, in
// which case the hooks use the bootstrap buffer forever and never sample (fail open as far as
// possible: a process without a malloc to forward to cannot be helped).
LEAKSCOPE_HIDDEN bool resolve_real_functions();

// The static bump buffer that answers allocations made during dlsym (never freed).
LEAKSCOPE_HIDDEN void* bootstrap_alloc(size_t size, size_t alignment);

inline constexpr size_t kBootstrapBytes = 64 << 10;  // far more than dlsym needs
extern char g_bootstrap[kBootstrapBytes] __attribute__((visibility("hidden")));
// Where bootstrap blocks come from: area 0 of the sample region (region.h) once it is reserved,
// which happens before the first bootstrap block, so that the free hooks' one range compare
// (maybe_ours) covers them too; g_bootstrap when the region could not be reserved.
extern char* g_bootstrap_base __attribute__((visibility("hidden")));

// For the hooks' slow paths (the fast paths ask maybe_ours, region.h).
inline bool is_bootstrap(const void* p) {
  return reinterpret_cast<uintptr_t>(p) -
             reinterpret_cast<uintptr_t>(__atomic_load_n(&g_bootstrap_base, __ATOMIC_RELAXED)) <
         kBootstrapBytes;
}

}  // namespace leakscope::agent
