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
