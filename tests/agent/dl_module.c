// A tiny shared object that the stress test dlopen()s and dlclose()s while other threads
// allocate and unwind: its allocations put its pcs on sampled stacks, then it is unmapped.
#include <stdlib.h>

__attribute__((noinline)) void* dl_module_alloc(size_t n) {
  void* p = malloc(n);
  __asm__ volatile("" ::"r"(p) : "memory");
  return p;
}
