// Inlined frames in Rust code: rust_inline.rs, built by rustc when CMake found one (skipped
// otherwise), prints the address of a call that middle() (inlined) makes inside Holder::outer
// (a method, nested in namespaces in rustc's DWARF). The symbolizer must give both frames, with
// the lines of the calls, as `addr2line -i` does; libdw's dwarf_getscopes alone gives none.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/symbolize/elf_module.h"

namespace leakscope {
namespace {

// The 1-based line of `source` that contains `marker`; 0 when none does.
int64_t line_of(const std::string& source, const std::string& marker) {
  std::ifstream in(source);
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find(marker) != std::string::npos) return n;
  }
  return 0;
}

// What the program prints: a hex address; 0 when it did not run.
uint64_t run_for_address(const std::string& program) {
  FILE* out = popen(program.c_str(), "r");
  if (out == nullptr) return 0;
  unsigned long long addr = 0;
  if (std::fscanf(out, "%llx", &addr) != 1) addr = 0;
  pclose(out);
  return addr;
}

TEST(SymbolizeRust, InlinedFramesInsideNamespacesAndImpls) {
#ifndef RUST_INLINE_BIN
  GTEST_SKIP() << "no rustc: tests/unit/symbolize/rust_inline.rs was not built";
#else
  uint64_t addr = run_for_address(RUST_INLINE_BIN);
  ASSERT_NE(addr, 0u) << RUST_INLINE_BIN << " printed no address";
  auto module = ElfModule::open(RUST_INLINE_BIN, "");
  ASSERT_TRUE(module.ok()) << module.error().message;
  Resolution r = (*module)->resolve(addr);
  EXPECT_TRUE(r.from_dwarf);
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[0].name, "rust_inline::outer_mod::inner::middle");
  EXPECT_EQ(r.frames[0].line, line_of(RUST_INLINE_SRC, "// MIDDLE_CALL"));
  EXPECT_TRUE(r.frames[0].filename.ends_with("rust_inline.rs")) << r.frames[0].filename;
  EXPECT_EQ(r.frames[1].name, "rust_inline::outer_mod::inner::Holder::outer");
  EXPECT_EQ(r.frames[1].line, line_of(RUST_INLINE_SRC, "// OUTER_CALL"));
  EXPECT_TRUE(r.frames[1].filename.ends_with("rust_inline.rs")) << r.frames[1].filename;
#endif
}

}  // namespace
}  // namespace leakscope
