// Built into a shared library without -g: only the ELF symbol table names these.
#include "tests/unit/symbolize/testee.h"

namespace nodwarf {
__attribute__((noinline)) int Thing::method(int x) {
  asm volatile("" ::: "memory");
  return x + 7;
}
}  // namespace nodwarf

extern "C" __attribute__((noinline)) int nodwarf_c_function(int x) {
  asm volatile("" ::: "memory");
  return x * 5;
}
