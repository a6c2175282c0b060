// Site naming: the first frame in the user's code, past allocators, runtimes and the agent.
#include "core/analysis/sites.h"

#include <gtest/gtest.h>

namespace leakscope::analysis {
namespace {

Frame fn(std::string name, std::string file = "", std::string mapping = "") {
  Frame f;
  f.function = std::move(name);
  f.file = std::move(file);
  f.mapping = std::move(mapping);
  return f;
}

TEST(Sites, CppAllocationStack) {
  std::vector<Frame> stack = {fn("malloc"),
                              fn("operator new(unsigned long)"),
                              fn("std::vector<char, std::allocator<char> >::_M_realloc_insert"),
                              fn("__gnu_cxx::new_allocator<char>::allocate"),
                              fn("leak_append_slice(Request const&)", "svc.cc"),
                              fn("main")};
  EXPECT_EQ(site_index(stack), 4u);
}

TEST(Sites, GoAllocationStack) {
  std::vector<Frame> stack = {fn("runtime.mallocgc", "/usr/lib/go-1.19/src/runtime/malloc.go"),
                              fn("runtime.growslice"), fn("bytes.(*Buffer).grow"),
                              fn("main.leakAppend", "/src/leaky-go/main.go"),
                              fn("net/http.HandlerFunc.ServeHTTP")};
  EXPECT_EQ(site_index(stack), 3u);
}

TEST(Sites, GoModulePathsAreUserCode) {
  EXPECT_FALSE(is_runtime_frame(fn("github.com/acme/svc/cache.(*Cache).Put")));
  EXPECT_FALSE(is_runtime_frame(fn("main.main")));
  EXPECT_TRUE(is_runtime_frame(fn("net/http.(*conn).serve")));
  EXPECT_TRUE(is_runtime_frame(fn("internal/poll.(*FD).Accept")));
}

TEST(Sites, ThreadAndFdStacks) {
  std::vector<Frame> threads = {fn("pthread_create"), fn("std::thread::_M_start_thread"),
                                fn("spawn_worker()"), fn("main")};
  EXPECT_EQ(site_index(threads), 2u);
  std::vector<Frame> fds = {fn("open"), fn("fopen"), fn("open_log_file(char const*)")};
  EXPECT_EQ(site_index(fds), 2u);
  EXPECT_FALSE(is_runtime_frame(fn("open_log_file(char const*)")));
}

TEST(Sites, UnsymbolizedSystemLibraryFramesAreSkipped) {
  std::vector<Frame> stack = {fn("0x7f001234", "", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
                              fn("0x7f005678", "", "/opt/x/libleakscope.so"),
                              fn("0x401234", "", "/srv/bin/service")};
  EXPECT_EQ(site_index(stack), 2u);
}

TEST(Sites, InlinedLibraryTemplatesAreSkippedByFile) {
  std::vector<Frame> stack = {fn("operator new(unsigned long)"),
                              fn("make_unique<(anonymous namespace)::RequestContext>",
                                 "/usr/include/c++/12/bits/unique_ptr.h"),
                              fn("leak_request_context", "examples/leaky-service/leaks_heap.cc")};
  EXPECT_EQ(site_index(stack), 2u);
}

TEST(Sites, StandardLibraryGoroutineIsNamedPastTheRuntime) {
  std::vector<Frame> stack = {fn("runtime.gopark", "runtime/proc.go"), fn("runtime.selectgo"),
                              fn("net/http.(*persistConn).readLoop")};
  EXPECT_EQ(site_index(stack), 2u);
}

TEST(Sites, InlinedUserHelperIsNamedAfterItsFunction) {
  Frame helper = fn("make_record", "leaks_heap.cc");
  Frame pattern = fn("leak_append_slice", "leaks_heap.cc");
  Frame handler = fn("handle", "main.cc");
  helper.address = pattern.address = 0x401000;  // one location, two lines: inlined
  handler.address = 0x402000;
  EXPECT_EQ(site_index({fn("malloc"), helper, pattern, handler}), 2u);
  pattern.address = 0x401500;  // a real call: the helper is its own site
  EXPECT_EQ(site_index({fn("malloc"), helper, pattern, handler}), 1u);
}

// Rust's standard library by name (legacy and v0 demanglings, impls, trait impls) and by the
// path of its sources; the user's crate, and a C++ namespace called core, stay user code.
TEST(Sites, RustStandardLibraryIsLibraryCode) {
  for (const char* name :
       {"<std::sys::unix::fs::File>::open_c", "<alloc::vec::Vec<T>>::push",
        "std::sys::unix::fs::File::open_c", "core::ptr::drop_in_place<leaky_rust::heap::Session>",
        "alloc::raw_vec::finish_grow", "hashbrown::raw::RawTable<T,A>::reserve_rehash",
        "<u8 as alloc::vec::spec_from_elem::SpecFromElem>::from_elem",
        "<std::thread::Builder>::spawn_unchecked_::<F, T>",
        "<F as core::ops::function::FnOnce<()>>::call_once"})
    EXPECT_TRUE(is_runtime_frame(fn(name))) << name;
  EXPECT_TRUE(is_runtime_frame(
      fn("alloc::alloc::alloc", "/usr/src/rustc-1.63.0/library/alloc/src/alloc.rs")));
  EXPECT_TRUE(is_runtime_frame(fn("__rust_alloc_shim", "/rustc/90b35a6/library/std/src/alloc.rs")));
  EXPECT_TRUE(is_runtime_frame(fn("inner", "library/std/src/sys/unix/fs.rs")));
  EXPECT_FALSE(
      is_runtime_frame(fn("leaky_rust::fds::leak_open_file", "examples/leaky-rust/fds.rs")));
  EXPECT_FALSE(is_runtime_frame(fn("<leaky_rust::heap::Guard as core::ops::drop::Drop>::drop")));
  EXPECT_FALSE(is_runtime_frame(fn("core::Engine::run()", "")));
  EXPECT_FALSE(is_runtime_frame(fn("core::Engine::run", "engine.cc")));
}

TEST(Sites, RustFdStackIsNamedAtThePattern) {
  std::vector<Frame> stack = {fn("open64"), fn("<std::sys::unix::fs::File>::open_c"),
                              fn("std::fs::OpenOptions::_open"),
                              fn("leaky_rust::fds::leak_open_file", "examples/leaky-rust/fds.rs"),
                              fn("leaky_rust::serve", "examples/leaky-rust/main.rs")};
  EXPECT_EQ(site_index(stack), 3u);
  std::vector<Frame> heap = {
      fn("malloc"), fn("alloc::alloc::alloc", "/usr/src/rustc-1.63.0/library/alloc/src/alloc.rs"),
      fn("<alloc::vec::Vec<T>>::push"),
      fn("leaky_rust::heap::leak_append_slice", "examples/leaky-rust/heap.rs")};
  EXPECT_EQ(site_index(heap), 3u);
}

TEST(Sites, AllRuntimeFallsBackToLeaf) {
  std::vector<Frame> stack = {fn("malloc"), fn("__libc_start_main")};
  EXPECT_EQ(site_index(stack), 0u);
  EXPECT_EQ(site_index({}), 0u);
}

TEST(Sites, KeyUsesAddressWhenUnsymbolized) {
  Frame a = fn("0x401234", "", "/srv/bin/service");
  a.address = 0x401234;
  EXPECT_EQ(site_key(a), "0x401234\t/srv/bin/service");
  Frame b = fn("handle", "svc.cc");
  b.line = 12;
  EXPECT_EQ(site_key(b), "handle\tsvc.cc\t12");
}

}  // namespace
}  // namespace leakscope::analysis
