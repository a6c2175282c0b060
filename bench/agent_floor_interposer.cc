// The floor for bench/agent_heap_instructions.sh: an LD_PRELOAD interposer that does nothing but
// forward malloc, free, calloc, realloc and operator new/delete to the next definition
// (dlsym(RTLD_NEXT)). What any interposer pays (the PLT call into the preloaded library, one
// load of the real function's address, the tail call) is in it; what the agent adds beyond that
// (the sampling countdown on allocation, the sample-region compare on free) is the agent's
// figure minus this one. Not a usable agent: no bootstrap buffer beyond glibc's __libc_* names
// (the benchmark's host is glibc), no error handling beyond what operator new needs.
#include <dlfcn.h>

#include <cstddef>
#include <cstdlib>
#include <new>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
}

namespace {

using MallocFn = void* (*)(size_t);
using FreeFn = void (*)(void*);
using CallocFn = void* (*)(size_t, size_t);
using ReallocFn = void* (*)(void*, size_t);

MallocFn g_malloc;
FreeFn g_free;
CallocFn g_calloc;
ReallocFn g_realloc;

// dlsym itself may allocate: until every pointer is known, glibc's own functions answer.
__attribute__((constructor)) void resolve() {
  auto m = reinterpret_cast<MallocFn>(dlsym(RTLD_NEXT, "malloc"));
  auto f = reinterpret_cast<FreeFn>(dlsym(RTLD_NEXT, "free"));
  auto c = reinterpret_cast<CallocFn>(dlsym(RTLD_NEXT, "calloc"));
  auto r = reinterpret_cast<ReallocFn>(dlsym(RTLD_NEXT, "realloc"));
  g_malloc = m;
  g_free = f;
  g_calloc = c;
  g_realloc = r;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* malloc(size_t n) {
  auto f = g_malloc;
  return __builtin_expect(f != nullptr, 1) ? f(n) : __libc_malloc(n);
}

__attribute__((visibility("default"))) void free(void* p) {
  auto f = g_free;
  if (__builtin_expect(f != nullptr, 1)) return f(p);
  __libc_free(p);
}

__attribute__((visibility("default"))) void* calloc(size_t n, size_t s) {
  auto f = g_calloc;
  return __builtin_expect(f != nullptr, 1) ? f(n, s) : __libc_calloc(n, s);
}

__attribute__((visibility("default"))) void* realloc(void* p, size_t n) {
  auto f = g_realloc;
  return __builtin_expect(f != nullptr, 1) ? f(p, n) : __libc_realloc(p, n);
}

}  // extern "C"

// new and delete straight to the real malloc and free, as the agent's do.
__attribute__((visibility("default"))) void* operator new(size_t n) {
  void* p = g_malloc(n);
  if (p == nullptr) abort();
  return p;
}
__attribute__((visibility("default"))) void* operator new[](size_t n) {
  void* p = g_malloc(n);
  if (p == nullptr) abort();
  return p;
}
__attribute__((visibility("default"))) void operator delete(void* p) noexcept { g_free(p); }
__attribute__((visibility("default"))) void operator delete[](void* p) noexcept { g_free(p); }
__attribute__((visibility("default"))) void operator delete(void* p, size_t) noexcept { g_free(p); }
__attribute__((visibility("default"))) void operator delete[](void* p, size_t) noexcept {
  g_free(p);
}
