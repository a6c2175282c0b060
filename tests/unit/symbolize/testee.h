// Functions with known shapes for the symbolizer tests: compiled with DWARF (testee.cc) or
// without any (testee_nodwarf.cc, into a shared library), so the tests can ask the symbolizer
// about their own addresses.
#pragma once

namespace symtest {

// Returns the return address of a call made from code that symtest::inlined_middle() inlined
// into symtest::outer_with_inline().
void* outer_with_inline();

// Lines in testee.cc: the call inside the inlined function, and the call of the inlined
// function inside the outer one.
extern const int kInlinedCallLine;
extern const int kOuterCallLine;

// A plain noinline function in a namespace; its address is its entry.
int namespaced_leaf(int x);
extern const int kNamespacedLeafLine;  // its first line

}  // namespace symtest

namespace nodwarf {
struct Thing {
  static int method(int x);  // in testee_nodwarf.cc, compiled without -g
};
}  // namespace nodwarf
extern "C" int nodwarf_c_function(int x);
