// Demangling: C++, both Rust manglings, and names that are not mangled at all.
#include "core/symbolize/demangle.h"

#include <gtest/gtest.h>

namespace leakscope {
namespace {

TEST(Demangle, Cxx) {
  EXPECT_EQ(demangle("_ZN2ns3fooEv"), "ns::foo()");
  EXPECT_EQ(demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"),
            "std::vector<int, std::allocator<int> >::push_back(int const&)");
}

TEST(Demangle, RustLegacyLosesItsHash) {
  EXPECT_EQ(demangle("_ZN3std2io5stdio6_print17h2c4d8b1e5f6a7b8cE"), "std::io::stdio::_print");
}

TEST(Demangle, RustV0WhenSupported) {
  const char* v0 = "_RNvCskwGfYPst2Cb_3foo16example_function";
  if (rust_v0_supported()) {
    EXPECT_EQ(demangle(v0), "foo::example_function");
  } else {
    EXPECT_EQ(demangle(v0), v0);
  }
}

TEST(Demangle, PlainNamesUnchanged) {
  EXPECT_EQ(demangle("malloc"), "malloc");
  EXPECT_EQ(demangle("main.leak"), "main.leak");
  EXPECT_EQ(demangle("_Znot_really_mangled"), "_Znot_really_mangled");
  EXPECT_EQ(demangle(""), "");
}

}  // namespace
}  // namespace leakscope
