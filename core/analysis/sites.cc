// See sites.h. The lists below are pprof's allocator drop_frames regex (legacy_profile.go),
// widened to the calls that create threads and descriptors, and Go's and Rust's standard library.
#include "core/analysis/sites.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace leakscope::analysis {
namespace {

// Whole names: libc entry points the agent interposes, and their aliases.
constexpr std::array<std::string_view, 52> kExactNames = {
    "malloc",         "calloc",         "realloc",      "reallocarray",  "free",
    "posix_memalign", "aligned_alloc",  "memalign",     "valloc",        "pvalloc",
    "strdup",         "strndup",        "mmap",         "mmap64",        "mremap",
    "pthread_create", "start_thread",   "clone",        "clone3",        "thread_start",
    "open",           "open64",         "openat",       "openat64",      "creat",
    "creat64",        "socket",         "socketpair",   "accept",        "accept4",
    "pipe",           "pipe2",          "dup",          "dup2",          "dup3",
    "eventfd",        "timerfd_create", "epoll_create", "epoll_create1", "memfd_create",
    "fopen",          "fopen64",        "fdopen",       "signalfd",      "inotify_init",
    "inotify_init1",  "tmpfile",        "opendir",      "fdopendir",     "backtrace",
    "asprintf",       "vasprintf",
};

// Name prefixes: C++ runtime and standard library, libc internals, the agent, allocators.
constexpr std::array<std::string_view, 22> kPrefixes = {
    "operator new", "operator delete", "std::",          "__gnu_cxx::", "__cxxabiv1::", "__cxa_",
    "__libc_",      "__GI_",           "_IO_",           "__pthread",   "__clone",      "__mmap",
    "__open",       "__socket",        "_dl_",           "leakscope::", "leakscope_",   "je_",
    "tc_",          "tcmalloc::",      "__interceptor_", "__wrap_",
};

// Go standard library packages (first element of the import path).
constexpr std::array<std::string_view, 32> kGoStd = {
    "runtime",   "sync",     "net",     "bytes",   "strings",  "bufio",    "os",     "io",
    "fmt",       "internal", "syscall", "reflect", "encoding", "compress", "crypto", "context",
    "time",      "sort",     "strconv", "math",    "unicode",  "errors",   "log",    "regexp",
    "container", "vendor",   "mime",    "path",    "text",     "html",     "slices", "maps",
};

// Libraries whose unsymbolized frames are never the user's code.
constexpr std::array<std::string_view, 10> kSystemLibs = {
    "libc.so",     "libstdc++.so", "libleakscope", "ld-linux", "libpthread",
    "libjemalloc", "libgcc_s",     "libtcmalloc",  "libm.so",  "libc++",
};

// Rust's standard library crates, and the crates std vendors (hashbrown is its HashMap).
constexpr std::array<std::string_view, 7> kRustStd = {
    "std", "core", "alloc", "hashbrown", "std_detect", "panic_unwind", "compiler_builtins",
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The crate a demangled Rust name is in: its first path segment, looked for inside an impl's
// angle brackets ("<alloc::vec::Vec<T>>::push") and, when the type of "<Type as Trait>" is no
// path (u8, [T], &str), in the trait ("<u8 as alloc::vec::SpecFromElem>::from_elem").
std::string_view rust_crate(std::string_view name) {
  while (!name.empty() && (name[0] == '<' || name[0] == '&' || name[0] == '['))
    name.remove_prefix(1);
  size_t as = name.find(" as ");
  size_t sep = name.find("::");
  if (as != std::string_view::npos && (sep == std::string_view::npos || as < sep)) {
    name = name.substr(as + 4);
    sep = name.find("::");
  }
  return sep == std::string_view::npos ? std::string_view() : name.substr(0, sep);
}

// Rust's standard library: by its sources' paths (Debian's /usr/src/rustc-VERSION, rustup's
// /rustc/HASH, a local build's library/std), or by a std crate's name on a frame that is Rust's
// (a .rs file) or may be (no file and no C++ argument list: a C++ namespace "core" stays user's;
// "<F as core::ops::FnOnce<()>>::call_once" is Rust's).
bool is_rust_std(std::string_view name, std::string_view file) {
  for (std::string_view dir : {"/rustc/", "/usr/src/rustc-", "/cargo/registry/"})
    if (starts_with(file, dir)) return true;
  for (std::string_view dir : {"library/std/src/", "library/core/src/", "library/alloc/src/"})
    if (file.find(dir) != std::string_view::npos) return true;
  bool rust_file = file.size() > 3 && file.substr(file.size() - 3) == ".rs";
  bool cxx_args = name.ends_with(')') || name.find(") const") != std::string_view::npos;
  if (!rust_file && (!file.empty() || cxx_args)) return false;
  std::string_view crate = rust_crate(name);
  return std::find(kRustStd.begin(), kRustStd.end(), crate) != kRustStd.end();
}

// The name without a trailing argument list or a "+0x12" offset.
std::string_view bare_name(std::string_view name) {
  size_t plus = name.find("+0x");
  if (plus != std::string_view::npos) name = name.substr(0, plus);
  return name;
}

bool is_go_std(std::string_view name, std::string_view file) {
  bool go_file = file.size() > 3 && file.substr(file.size() - 3) == ".go";
  if (go_file && (file.find("/usr/lib/go") != std::string_view::npos ||
                  file.find("/usr/local/go/src/") != std::string_view::npos))
    return true;
  if (name.find("::") != std::string_view::npos) return false;
  size_t end = name.find_first_of("/.");
  if (end == std::string_view::npos || end == 0) return false;
  std::string_view first = name.substr(0, end);
  return std::find(kGoStd.begin(), kGoStd.end(), first) != kGoStd.end();
}

std::string_view basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool is_runtime_frame(const Frame& frame) {
  std::string_view name = bare_name(frame.function);
  if (name.empty() || starts_with(name, "0x") || starts_with(name, "[")) {
    std::string_view lib = basename(frame.mapping);
    for (std::string_view s : kSystemLibs)
      if (starts_with(lib, s)) return true;
    return false;
  }
  // Header-only library code inlined into the caller (std::make_unique, containers): DWARF
  // names these without their namespace, but their file gives them away.
  std::string_view file = frame.file;
  if (starts_with(file, "/usr/include/") || starts_with(file, "/usr/lib/gcc/")) return true;
  for (std::string_view s : kExactNames)
    if (name == s) return true;
  for (std::string_view p : kPrefixes)
    if (starts_with(name, p)) return true;
  return is_go_std(name, frame.file) || is_rust_std(name, frame.file);
}

// The innermost layers of every stack: the allocator and thread/fd entry points, the C++
// runtime, and Go's runtime, sync, syscall and internal packages. When a stack has no user frame
// at all (a goroutine of net/http's transport), the site is the first frame past these.
bool is_core_runtime_frame(const Frame& frame) {
  std::string_view name = bare_name(frame.function);
  for (std::string_view p : {"runtime.", "internal/", "sync.", "syscall.", "time."})
    if (starts_with(name, p)) return true;
  return is_runtime_frame(frame) && !is_go_std(name, frame.file);
}

bool is_allocator_frame(const Frame& frame) {
  std::string_view name = bare_name(frame.function);
  for (std::string_view n : {"malloc", "calloc", "realloc", "reallocarray", "free",
                             "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc"})
    if (name == n) return true;
  for (std::string_view p : {"operator new", "je_", "tc_", "tcmalloc::", "mi_"})
    if (starts_with(name, p)) return true;
  std::string_view lib = basename(frame.mapping);
  for (std::string_view l : {"libjemalloc", "libtcmalloc", "libmimalloc"})
    if (starts_with(lib, l)) return true;
  return false;
}

size_t site_index(const std::vector<Frame>& stack) {
  for (size_t i = 0; i < stack.size(); ++i) {
    if (is_runtime_frame(stack[i])) continue;
    // A user helper inlined into a user function (same location, so the same address) is named
    // after the function it was compiled into: a make_record() inlined into both a leak and a
    // cache reads as the leak and the cache, not twice as make_record.
    while (i + 1 < stack.size() && stack[i].address != 0 &&
           stack[i + 1].address == stack[i].address && !is_runtime_frame(stack[i + 1]))
      ++i;
    return i;
  }
  for (size_t i = 0; i < stack.size(); ++i)
    if (!is_core_runtime_frame(stack[i])) return i;
  return 0;
}

std::string site_key(const Frame& site) {
  if (!site.function.empty() && !starts_with(site.function, "0x"))
    return site.function + "\t" + site.file + "\t" + std::to_string(site.line);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(site.address));
  return std::string(buf) + "\t" + site.mapping;
}

}  // namespace leakscope::analysis
