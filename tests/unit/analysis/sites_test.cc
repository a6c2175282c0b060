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

// frames_of names unsymbolized frames "module+0xOFFSET": still unsymbolized, so a system
// library's frame is skipped and a site is keyed by its address, not by the name.
TEST(Sites, ModuleOffsetNamesAreUnsymbolized) {
  std::vector<Frame> stack = {fn("libc.so.6+0x9a0e4", "", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
                              fn("libleakscope.so+0x5678", "", "/opt/x/libleakscope.so"),
                              fn("service+0x1234", "", "/srv/bin/service")};
  stack[2].address = 0x401234;
  EXPECT_EQ(site_index(stack), 2u);
  EXPECT_EQ(site_key(stack[2]), "0x401234\t/srv/bin/service");
  EXPECT_FALSE(is_runtime_frame(stack[2]));
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

// --- allocator internals and wrappers ---------------------------------------------------------

TEST(Sites, AllocatorInternalsAreCutLikeMalloc) {
  Frame in_lib = fn("malloc_slow", "", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2");
  EXPECT_TRUE(is_allocator_frame(in_lib));
  EXPECT_TRUE(is_runtime_frame(in_lib));
  for (const char* name : {"je_arena_malloc_hard", "malloc_slow", "arena_extent_alloc_large",
                           "tcmalloc::allocate_full_malloc_oom", "mi_heap_malloc",
                           "_mi_page_malloc", "__libc_malloc", "__GI___libc_malloc", "_int_malloc"})
    EXPECT_TRUE(is_allocator_frame(fn(name))) << name;
  // jemalloc's internal names count only where they could be jemalloc's: no file, or its sources.
  EXPECT_TRUE(is_allocator_frame(fn("extent_alloc_wrapper", "deps/jemalloc/src/extent.c")));
  EXPECT_FALSE(is_allocator_frame(fn("arena_reset", "src/game/arena.cc")));
  // An mmap of jemalloc's, under a redis wrapper: the site is redis's caller of the wrapper.
  std::vector<Frame> mmap_stack = {fn("mmap64"),      fn("pages_map"), fn("extent_alloc_mmap"),
                                   fn("malloc_slow"), fn("malloc"),    fn("zmalloc", "zmalloc.c")};
  EXPECT_EQ(site_index(mmap_stack), 5u);  // nothing learned: zmalloc is not yet a wrapper
}

// The calls, as (caller, callee) chains above malloc, of a redis-like program: zmalloc and
// zmalloc_usable share an inner layer, ztrymalloc_usable; zmalloc is called from many places.
std::vector<std::vector<Frame>> redis_like_stacks() {
  auto stack = [](std::initializer_list<const char*> user) {
    std::vector<Frame> s = {fn("malloc", "", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")};
    for (const char* f : user) s.push_back(fn(f, "redis.c"));
    s.push_back(fn("__libc_start_main"));
    return s;
  };
  return {
      stack({"ztrymalloc_usable", "zmalloc", "createObject", "createStringObject", "main"}),
      stack({"ztrymalloc_usable", "zmalloc", "dictAddRaw", "dbAdd", "main"}),
      stack({"ztrymalloc_usable", "zmalloc", "listCreate", "createClient", "main"}),
      stack({"ztrymalloc_usable", "zmalloc", "createClient", "main"}),
      stack({"ztrymalloc_usable", "zmalloc_usable", "sdsnewlen", "sdsdup", "dbAdd", "main"}),
      stack({"ztrymalloc_usable", "zmalloc_usable", "sdsnewlen", "createStringObject", "main"}),
      stack(
          {"ztrymalloc_usable", "zmalloc_usable", "sdsnewlen", "sdsempty", "createClient", "main"}),
      stack({"ztrymalloc_usable", "zmalloc_usable", "sdsnewlen", "sdscatlen", "addReply", "main"}),
      // A leak of the program's own, with one caller: it is the site, not a wrapper.
      stack({"remember_session", "handle_login", "main"}),
  };
}

std::string site_of(SiteRule& rule, const std::vector<Frame>& stack) {
  return stack[rule.site_index(stack)].function;
}

TEST(Sites, AllocatorWrappersAreFoundFromTheWholeProfile) {
  auto stacks = redis_like_stacks();
  SiteRule rule;
  for (const auto& s : stacks) rule.learn(s);
  EXPECT_EQ(
      rule.detected_wrappers(),
      (std::vector<std::string>{"sdsnewlen", "zmalloc", "zmalloc_usable", "ztrymalloc_usable"}));
  EXPECT_EQ(site_of(rule, stacks[0]), "createObject");
  EXPECT_EQ(site_of(rule, stacks[1]), "dictAddRaw");
  EXPECT_EQ(site_of(rule, stacks[3]), "createClient");
  EXPECT_EQ(site_of(rule, stacks[4]), "sdsdup");
  EXPECT_EQ(site_of(rule, stacks[5]), "createStringObject");
  EXPECT_EQ(site_of(rule, stacks[8]), "remember_session");
  // Without learning, nothing is a wrapper: the leaf-most user frame, as before.
  EXPECT_EQ(stacks[0][site_index(stacks[0])].function, "ztrymalloc_usable");
}

// Without names that say "malloc": an inner layer (pool_take, two callers that only call it)
// below a wrapper (pool_get, four callers) makes its other caller (pool_get_sized, one caller) a
// wrapper too; the inner layer alone, with no wrapper above, stays the site.
TEST(Sites, InnerLayerTakesItsCallersAlong) {
  auto stack = [](const char* api, const char* caller) {
    return std::vector<Frame>{fn("malloc"), fn("pool_take", "pool.c"), fn(api, "pool.c"),
                              fn(caller, "svc.c"), fn("main", "svc.c")};
  };
  SiteRule rule;
  for (const char* c : {"a", "b", "c", "d"}) rule.learn(stack("pool_get", c));
  rule.learn(stack("pool_get_sized", "e"));
  EXPECT_EQ(rule.detected_wrappers(), (std::vector<std::string>{"pool_get", "pool_get_sized"}));
  EXPECT_EQ(site_of(rule, stack("pool_get_sized", "e")), "e");
  SiteRule alone;
  alone.learn(stack("pool_get", "a"));
  alone.learn(stack("pool_get_sized", "e"));
  EXPECT_TRUE(alone.detected_wrappers().empty());
  EXPECT_EQ(site_of(alone, stack("pool_get_sized", "e")), "pool_take");
}

// The agent's heap stacks start at malloc's caller: with `allocation`, the leaf is first.
TEST(Sites, AgentStacksStartAtTheAllocatorsCaller) {
  SiteRule rule;
  for (const char* c : {"createObject", "dictAddRaw", "listCreate", "createClient"})
    rule.learn({fn("zmalloc", "zmalloc.c"), fn(c, "redis.c"), fn("main", "redis.c")}, true);
  rule.learn({fn("zcalloc", "zmalloc.c"), fn("_dictExpand", "dict.c"), fn("main")}, true);
  rule.learn({fn("remember", "svc.c"), fn("handle", "svc.c")}, true);
  std::vector<Frame> s = {fn("zmalloc", "zmalloc.c"), fn("dictAddRaw", "dict.c")};
  EXPECT_EQ(site_of(rule, s), "zmalloc");  // not an allocation stack: nothing is cut
  EXPECT_EQ(s[rule.site_index(s, true)].function, "dictAddRaw");
  std::vector<Frame> z = {fn("zcalloc", "zmalloc.c"), fn("_dictExpand", "dict.c"), fn("main")};
  EXPECT_EQ(z[rule.site_index(z, true)].function, "_dictExpand");  // by its name, one caller
  std::vector<Frame> r = {fn("remember", "svc.c"), fn("handle", "svc.c")};
  EXPECT_EQ(r[rule.site_index(r, true)].function, "remember");
}

TEST(Sites, FewCallersOrOtherWorkIsNoWrapper) {
  auto stack = [](const char* site, const char* caller) {
    return std::vector<Frame>{fn("malloc"), fn(site, "svc.cc"), fn(caller, "svc.cc"), fn("main")};
  };
  SiteRule rule;
  // make_record: three callers, fewer than kWrapperCallers: still the site.
  for (const char* c : {"leak", "cache", "ring"}) rule.learn(stack("make_record", c));
  // new_buffer: four callers, but it also calls a user function that allocates: no wrapper.
  for (const char* c : {"a", "b", "c", "d"}) rule.learn(stack("new_buffer", c));
  rule.learn({fn("malloc"), fn("fill", "svc.cc"), fn("new_buffer", "svc.cc"), fn("e", "svc.cc")});
  // spawn: four callers of pthread_create, no allocator: wrappers are allocators' only.
  for (const char* c : {"a", "b", "c", "d"})
    rule.learn({fn("pthread_create"), fn("spawn", "svc.cc"), fn(c, "svc.cc")});
  EXPECT_TRUE(rule.detected_wrappers().empty());
  EXPECT_EQ(site_of(rule, stack("make_record", "leak")), "make_record");
  EXPECT_EQ(site_of(rule, stack("new_buffer", "a")), "new_buffer");
  // With a fourth caller make_record is a wrapper, and the site is its caller.
  rule.learn(stack("make_record", "fifo"));
  EXPECT_EQ(site_of(rule, stack("make_record", "leak")), "leak");
}

// A single-caller chain is never an inner layer: the leak stays named even when the function
// above it has many callers (an inner layer needs two callers of its own).
TEST(Sites, SingleCallerLeakUnderABusyCallerStaysTheSite) {
  SiteRule rule;
  for (const char* c : {"a", "b", "c", "d", "e"})
    rule.learn({fn("malloc"), fn("leak_once", "svc.cc"), fn("handle", "svc.cc"), fn(c, "svc.cc")});
  std::vector<Frame> s = {fn("malloc"), fn("leak_once", "svc.cc"), fn("handle", "svc.cc"),
                          fn("a", "svc.cc")};
  EXPECT_EQ(site_of(rule, s), "leak_once");
}

TEST(Sites, NamedWrappersAreCut) {
  SiteOptions o;
  o.wrappers = {"^my_alloc$", "pool::"};
  SiteRule rule(o);
  std::vector<Frame> s = {fn("malloc"), fn("my_alloc(unsigned long)", "svc.cc"),
                          fn("pool::get()", "pool.cc"), fn("handler", "svc.cc")};
  EXPECT_EQ(site_of(rule, s), "handler");
  EXPECT_FALSE(check_wrapper_pattern("(").ok());
  EXPECT_FALSE(check_wrapper_pattern("").ok());
  EXPECT_TRUE(check_wrapper_pattern("^zmalloc$").ok());
}

TEST(Sites, ProfileDropFramesAreCut) {
  SiteRule rule({{}, "my_new|my_free"});
  EXPECT_EQ(site_of(rule, {fn("my_new"), fn("handler", "svc.cc")}), "handler");
  EXPECT_EQ(site_of(rule, {fn("my_new_buffer", "svc.cc"), fn("handler", "svc.cc")}),
            "my_new_buffer");  // whole names, as pprof matches them
}

// What the regex of `diff` and the tables of `run` disagreed on, now one rule.
TEST(Sites, FormerlyDisagreeingFrames) {
  for (const char* name : {"mremap", "signalfd", "__open64", "__libc_calloc", "cfree",
                           "malloc_usable_size", "<alloc::vec::Vec<T>>::push", "bytes.growSlice",
                           "__fopen_internal", "_IO_file_doallocate", "std::__1::vector"})
    EXPECT_TRUE(is_runtime_frame(fn(name))) << name;
  EXPECT_FALSE(is_runtime_frame(fn("handle_malloc_stats", "svc.cc")));
}

}  // namespace
}  // namespace leakscope::analysis
