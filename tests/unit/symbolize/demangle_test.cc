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

// LLVM's ".llvm.<digits>" on a symbol it promoted, and split or specialised copies: the name is
// the function's. (Real symbols from rustc 1.63 and 1.95 builds of examples/leaky-rust.)
TEST(Demangle, RustSuffixesAreDropped) {
  EXPECT_EQ(demangle("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h9716f00404a8fd38E"
                     ".llvm.12194969398462552489"),
            "std::rt::lang_start::{{closure}}");
  EXPECT_EQ(demangle("_ZN4core3fmt5Write10write_char17h4f5bcaabe583ac53E.llvm.7441724544625578069"),
            "core::fmt::Write::write_char");
  EXPECT_EQ(demangle("_ZN4core3ptr46drop_in_place$LT$alloc..vec..Vec$LT$u8$GT$$GT$"
                     "17h9d33a651441aaed5E.cold.1"),
            "core::ptr::drop_in_place<alloc::vec::Vec<u8>>");
  EXPECT_EQ(demangle("_ZN3std2io5stdio6_print17h2c4d8b1e5f6a7b8cE.isra.0"),
            "std::io::stdio::_print");
  if (rust_v0_supported()) {
    EXPECT_EQ(demangle("_RNvCskwGfYPst2Cb_3foo16example_function.llvm.969840808751382316"),
              "foo::example_function");
  }
}

// Only a compiler's suffix goes: anything else after a Rust name leaves the symbol alone, and C++
// keeps its suffix as __cxa_demangle prints it.
TEST(Demangle, OtherSuffixesAreKept) {
  const char* odd = "_ZN3std2io5stdio6_print17h2c4d8b1e5f6a7b8cE.llvm.";
  EXPECT_EQ(demangle(odd), odd);
  EXPECT_EQ(demangle("_ZN3std2io5stdio6_print17h2c4d8b1e5f6a7b8cE+x"),
            "_ZN3std2io5stdio6_print17h2c4d8b1e5f6a7b8cE+x");
  EXPECT_EQ(demangle("_ZN2ns3fooEv.cold"), "ns::foo() [clone .cold]");
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
