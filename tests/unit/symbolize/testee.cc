// The symbolizer's test subject, with DWARF. Line numbers are exported as constants defined
// just before the line they name, so the test stays right when this file is edited.
#include "tests/unit/symbolize/testee.h"

namespace symtest {

void* volatile g_sink;

__attribute__((noinline)) void* return_address() {
  void* r = __builtin_return_address(0);
  asm volatile("" ::: "memory");
  return r;
}

const int kInlinedCallLine = __LINE__ + 2;
__attribute__((always_inline)) inline void* inlined_middle() {
  void* r = return_address();
  g_sink = r;  // after the call, so the call is not a tail call
  return r;
}

const int kOuterCallLine = __LINE__ + 2;
__attribute__((noinline)) void* outer_with_inline() {
  void* r = inlined_middle();
  asm volatile("" ::: "memory");
  return r;
}

const int kNamespacedLeafLine = __LINE__ + 1;
__attribute__((noinline)) int namespaced_leaf(int x) {
  asm volatile("" ::: "memory");
  return x * 3 + 1;
}

}  // namespace symtest
