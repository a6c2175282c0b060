// See sites.h: the frame tables of the site rule. The lists below are pprof's allocator
// drop_frames regex (legacy_profile.go), widened to the calls that create threads and descriptors,
// allocator internals, and Go's and Rust's standard library. The wrapper half is SiteRule, below.
#include "core/analysis/sites.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string_view>
#include <unordered_map>

namespace leakscope::analysis {
namespace {

// Whole names: libc entry points the agent interposes, and their aliases.
constexpr std::array<std::string_view, 62> kExactNames = {
    "malloc",
    "calloc",
    "realloc",
    "reallocarray",
    "free",
    "posix_memalign",
    "aligned_alloc",
    "memalign",
    "valloc",
    "pvalloc",
    "strdup",
    "strndup",
    "mmap",
    "mmap64",
    "mremap",
    "pthread_create",
    "start_thread",
    "clone",
    "clone3",
    "thread_start",
    "open",
    "open64",
    "openat",
    "openat64",
    "creat",
    "creat64",
    "socket",
    "socketpair",
    "accept",
    "accept4",
    "pipe",
    "pipe2",
    "dup",
    "dup2",
    "dup3",
    "eventfd",
    "timerfd_create",
    "epoll_create",
    "epoll_create1",
    "memfd_create",
    "fopen",
    "fopen64",
    "fdopen",
    "signalfd",
    "inotify_init",
    "inotify_init1",
    "tmpfile",
    "opendir",
    "fdopendir",
    "backtrace",
    "asprintf",
    "vasprintf",
    "cfree",
    "sbrk",
    "mallocx",
    "rallocx",
    "xallocx",
    "sdallocx",
    "malloc_usable_size",
    "__fopen_internal",
    "malloc_default",
    "malloc_slow",
};

// Name prefixes: C++ runtime and standard library, libc internals, the agent, allocators.
constexpr std::array<std::string_view, 27> kPrefixes = {
    "operator new",   "operator delete", "std::",  "__gnu_cxx::", "__cxxabiv1::",
    "__cxa_",         "__libc_",         "__GI_",  "_IO_",        "__pthread",
    "__clone",        "__mmap",          "__open", "__socket",    "_dl_",
    "leakscope::",    "leakscope_",      "je_",    "tc_",         "tcmalloc::",
    "__interceptor_", "__wrap_",         "_int_",  "jemalloc",    "mi_",
    "_mi_",           "mimalloc",
};

// jemalloc's internal functions, named so only where the frame has no source file (a stripped
// static build: redis's own copy of jemalloc) or a file of jemalloc's sources.
constexpr std::array<std::string_view, 15> kJemallocInternals = {
    "arena_",  "imalloc", "ialloc",     "tcache_",     "extent_",
    "ehooks_", "pages_",  "ecache_",    "pac_",        "emap_",
    "large_",  "hpa_",    "base_alloc", "malloc_slow", "malloc_default",
};

// Allocator libraries: any frame in them is the allocator's, symbolized or not.
constexpr std::array<std::string_view, 3> kAllocatorLibs = {"libjemalloc", "libtcmalloc",
                                                            "libmimalloc"};

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

// The name without a "+0x12" offset or its argument list (pprof's simplifyFunc: the argument
// list is the first '(' that does not open "(anonymous namespace)" or follow "operator()").
std::string_view bare_name(std::string_view name) {
  size_t plus = name.find("+0x");
  if (plus != std::string_view::npos) name = name.substr(0, plus);
  for (size_t from = 0;;) {
    size_t open = name.find('(', from);
    if (open == std::string_view::npos || open == 0) return name;
    if (name.substr(open).starts_with("(anonymous namespace)")) {
      from = open + 21;
    } else if (open >= 8 && name.substr(open - 8).starts_with("operator()")) {
      from = open + 2;
    } else {
      return name.substr(0, open);
    }
  }
}

// The libc entry point under glibc's internal aliases: "__GI___libc_malloc", "__libc_malloc"
// and "__malloc" are malloc, "__open64" is open64 (pprof's "(__GI_)?(__libc_|__)?" prefix).
std::string_view libc_entry(std::string_view name) {
  if (starts_with(name, "__GI_")) name.remove_prefix(5);
  if (starts_with(name, "__libc_")) {
    name.remove_prefix(7);
  } else if (starts_with(name, "__")) {
    name.remove_prefix(2);
  }
  return name;
}

bool in_allocator_lib(const Frame& frame) {
  size_t slash = frame.mapping.rfind('/');
  std::string_view lib =
      std::string_view(frame.mapping).substr(slash == std::string::npos ? 0 : slash + 1);
  for (std::string_view l : kAllocatorLibs)
    if (starts_with(lib, l)) return true;
  return false;
}

bool is_jemalloc_internal(std::string_view name, std::string_view file) {
  if (!file.empty() && file.find("jemalloc") == std::string_view::npos) return false;
  for (std::string_view p : kJemallocInternals)
    if (starts_with(name, p)) return true;
  return !file.empty();  // any function of jemalloc's sources
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
  if (in_allocator_lib(frame) || is_allocator_frame(frame)) return true;
  if (name.empty() || is_unsymbolized(frame) || starts_with(name, "0x") || starts_with(name, "[")) {
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
    if (name == s || libc_entry(name) == s) return true;
  for (std::string_view p : kPrefixes)
    if (starts_with(name, p)) return true;
  // Rust's rule reads the argument list (a C++ "core::Engine::run()" is no Rust frame).
  std::string_view full = frame.function;
  full = full.substr(0, full.find("+0x"));
  return is_go_std(name, frame.file) || is_rust_std(full, frame.file);
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
  std::string_view entry = libc_entry(name);
  for (std::string_view n :
       {"malloc", "calloc", "realloc", "reallocarray", "free", "cfree", "posix_memalign",
        "aligned_alloc", "memalign", "valloc", "pvalloc", "mallocx", "rallocx", "xallocx"})
    if (name == n || entry == n) return true;
  for (std::string_view p :
       {"operator new", "je_", "tc_", "tcmalloc::", "mi_", "_mi_", "_int_malloc", "_int_realloc"})
    if (starts_with(name, p)) return true;
  if (is_jemalloc_internal(name, frame.file)) return true;
  return in_allocator_lib(frame);
}

// --- the rule, with allocator wrappers ------------------------------------------------------

Result<void> check_wrapper_pattern(const std::string& pattern) {
  if (pattern.empty()) return make_error("empty wrapper pattern");
  try {
    std::regex re(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return make_error("wrapper pattern '" + pattern + "' is not a regex: " + e.what());
  }
  return {};
}

namespace {

// A name that says "allocator": malloc, calloc or realloc in it, in any case.
bool allocator_name(const std::string& function) {
  std::string name(bare_name(function));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view part : {"malloc", "calloc", "realloc"})
    if (name.find(part) != std::string::npos) return true;
  return false;
}

// A frame's class for the rule, cached per (function, file, mapping).
enum : uint8_t { kUser = 0, kLibrary = 1, kAllocator = 2 };

constexpr uint32_t kNoFunction = UINT32_MAX;  // the caller of a stack's root

}  // namespace

// Distinct stacks as function ids and classes, and per function its part in a wrapper: none,
// an inner layer, or a wrapper (sites.h). analyse() recomputes them after learn() added stacks.
struct SiteRule::State {
  enum Role : uint8_t { kNone = 0, kInner = 1, kWrapper = 2 };
  std::vector<std::regex> wrappers;
  std::optional<std::regex> drop;
  std::unordered_map<std::string, uint8_t> classes;
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<std::string> names;
  struct Stack {
    std::vector<uint32_t> fn;
    std::vector<uint8_t> cls;
    bool allocation = false;
  };
  std::set<std::vector<uint32_t>> seen;  // (id << 2 | class) per frame
  std::vector<Stack> stacks;
  bool dirty = false;
  std::vector<uint8_t> role;                             // by id
  std::map<uint32_t, std::set<uint32_t>> inner_callers;  // inner layer -> the functions above it

  uint8_t classify(const Frame& f) {
    std::string key = f.function + '\0' + f.file + '\0' + f.mapping;
    auto [it, inserted] = classes.emplace(std::move(key), kUser);
    if (!inserted) return it->second;
    std::string name(bare_name(f.function));
    if (is_allocator_frame(f)) {
      it->second = kAllocator;
    } else if (is_runtime_frame(f)) {
      it->second = kLibrary;
    } else {
      for (const std::regex& re : wrappers)
        if (std::regex_search(name, re)) it->second = kLibrary;
      if (drop && std::regex_match(name, *drop)) it->second = kLibrary;
    }
    return it->second;
  }

  uint32_t id_of(const std::string& name) {
    auto [it, inserted] = ids.emplace(name, static_cast<uint32_t>(names.size()));
    if (inserted) names.push_back(name);
    return it->second;
  }

  bool user(const Stack& s, size_t i) const { return s.cls[i] == kUser && role[s.fn[i]] == kNone; }
  void analyse();
  void one_round(std::vector<uint8_t>& next);
  size_t cut(const std::vector<uint32_t>& fn, const std::vector<uint8_t>& cls, size_t k) const;
};

// One level of wrappers, with the roles found so far counted as allocator. A function is
// *first* when each of its appearances is the first user frame of an allocation stack; its
// callers are the distinct functions right above it there. A first function with
// kWrapperCallers callers is a wrapper. One with two or more callers, each of which is *second*
// (every appearance sits right above a first function) is an inner layer (ztrymalloc_usable
// below zmalloc and zmalloc_usable): it is cut only where a wrapper is found above it, and once
// one of its callers is a wrapper, all of them are.
void SiteRule::State::one_round(std::vector<uint8_t>& next) {
  size_t n = names.size();
  // Per function: seen first / seen second, and seen anywhere else (which disqualifies).
  std::vector<uint8_t> first(n, 0), not_first(n, 0), second(n, 0), not_second(n, 0);
  std::vector<std::set<uint32_t>> callers(n);
  std::vector<std::pair<uint32_t, uint32_t>> pairs;  // (first, second) of allocation stacks
  for (const Stack& s : stacks) {
    bool alloc = s.allocation;
    size_t k = s.fn.size(), k2 = s.fn.size();
    for (size_t i = 0; i < s.fn.size(); ++i) {
      if (!user(s, i)) {
        if (k == s.fn.size() && s.cls[i] != kLibrary) alloc = true;  // allocator, or a role
        continue;
      }
      uint32_t f = s.fn[i];
      if (k == s.fn.size()) {
        k = i;
        (alloc ? first : not_first)[f] = 1;
        not_second[f] = 1;
        if (alloc) callers[f].insert(i + 1 < s.fn.size() ? s.fn[i + 1] : kNoFunction);
      } else if (k2 == s.fn.size()) {
        k2 = i;
        not_first[f] = 1;
        (alloc ? second : not_second)[f] = 1;
        if (alloc) pairs.emplace_back(s.fn[k], f);
      } else {
        not_first[f] = not_second[f] = 1;
      }
    }
  }
  for (auto [f, g] : pairs)
    if (not_first[f]) not_second[g] = 1;
  for (size_t id = 0; id < n; ++id) {
    if (role[id] != kNone || !first[id] || not_first[id]) continue;
    if (callers[id].size() >= kWrapperCallers || allocator_name(names[id])) {
      next[id] = kWrapper;
      continue;
    }
    bool inner = callers[id].size() >= 2;
    for (uint32_t c : callers[id]) inner = inner && c != kNoFunction && second[c] && !not_second[c];
    if (inner) next[id] = kInner, inner_callers[static_cast<uint32_t>(id)] = callers[id];
  }
  // The functions above an inner layer are its entry points (zmalloc, zmalloc_usable): once one
  // of them is a wrapper, all are, whatever their own number of callers.
  for (const auto& [layer, above] : inner_callers) {
    bool any = false;
    for (uint32_t c : above) any = any || next[c] == kWrapper;
    for (uint32_t c : above)
      if (any && next[c] == kNone) next[c] = kWrapper;
  }
}

// Wrappers sit a few calls above the allocator: four rounds find zmalloc above
// ztrymalloc_usable, and sdsnewlen above zmalloc_usable, without climbing into the program.
void SiteRule::State::analyse() {
  dirty = false;
  role.assign(names.size(), kNone);
  inner_callers.clear();
  for (int round = 0; round < 4; ++round) {
    std::vector<uint8_t> next = role;
    one_round(next);
    if (next == role) break;
    role = std::move(next);
  }
}

// From the first user frame `k` of an allocation stack, the run of wrapper and inner frames
// above it is cut up to its highest wrapper; returns the first user frame above the cut (or `k`
// when the run holds no wrapper, or nothing is above it).
size_t SiteRule::State::cut(const std::vector<uint32_t>& fn, const std::vector<uint8_t>& cls,
                            size_t k) const {
  size_t top = fn.size();
  for (size_t j = k; j < fn.size(); ++j) {
    if (cls[j] != kUser) continue;
    if (fn[j] >= role.size() || role[fn[j]] == kNone) break;
    if (role[fn[j]] == kWrapper) top = j;
  }
  if (top == fn.size()) return k;
  for (size_t i = top + 1; i < fn.size(); ++i)
    if (cls[i] == kUser) return i;
  return k;
}

SiteRule::SiteRule(const SiteOptions& options) : s_(std::make_unique<State>()) {
  for (const std::string& w : options.wrappers) {
    if (!check_wrapper_pattern(w).ok()) continue;  // the CLI rejects these first
    s_->wrappers.emplace_back(w, std::regex::ECMAScript);
  }
  if (!options.drop_frames.empty()) {
    try {
      s_->drop.emplace(options.drop_frames, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      // RE2 syntax that ECMAScript does not take: the built-in tables still apply.
    }
  }
}

SiteRule::~SiteRule() = default;
SiteRule::SiteRule(SiteRule&&) noexcept = default;
SiteRule& SiteRule::operator=(SiteRule&&) noexcept = default;

void SiteRule::learn(const std::vector<Frame>& stack, bool allocation) {
  State::Stack s;
  s.allocation = allocation;
  std::vector<uint32_t> key = {allocation ? 1u : 0u};
  for (const Frame& f : stack) {
    s.fn.push_back(s_->id_of(f.function));
    s.cls.push_back(s_->classify(f));
    key.push_back(s.fn.back() << 2 | s.cls.back());
  }
  if (!s_->seen.insert(std::move(key)).second) return;
  s_->stacks.push_back(std::move(s));
  s_->dirty = true;
}

void SiteRule::learn(const Profile& profile, size_t value_index) {
  ProfileIndex index(profile);
  bool allocation = is_allocation_profile(profile);
  for (const Sample& sample : profile.samples)
    if (value_index < sample.values.size() && sample.values[value_index] != 0)
      learn(frames_of(index, sample), allocation);
}

size_t SiteRule::site_index(const std::vector<Frame>& stack, bool allocation) {
  if (s_->dirty) s_->analyse();
  std::vector<uint32_t> fn;
  std::vector<uint8_t> cls;
  for (const Frame& f : stack) {
    auto it = s_->ids.find(f.function);
    fn.push_back(it == s_->ids.end() ? kNoFunction : it->second);
    cls.push_back(s_->classify(f));
  }
  bool alloc = allocation;
  size_t i = 0;
  for (; i < stack.size() && cls[i] != kUser; ++i) alloc = alloc || cls[i] == kAllocator;
  if (i == stack.size()) {
    for (size_t j = 0; j < stack.size(); ++j)
      if (!is_core_runtime_frame(stack[j])) return j;
    return 0;
  }
  if (alloc) i = s_->cut(fn, cls, i);
  // A user helper inlined into a user function (same location, so the same address) is named
  // after the function it was compiled into: a make_record() inlined into both a leak and a
  // cache reads as the leak and the cache, not twice as make_record.
  while (i + 1 < stack.size() && stack[i].address != 0 &&
         stack[i + 1].address == stack[i].address && cls[i + 1] == kUser)
    ++i;
  return i;
}

std::vector<std::string> SiteRule::detected_wrappers() {
  if (s_->dirty) s_->analyse();
  std::vector<std::string> out;
  for (size_t id = 0; id < s_->names.size(); ++id)
    if (s_->role[id] == State::kWrapper && !is_unsymbolized_name(s_->names[id]))
      out.push_back(s_->names[id]);
  std::sort(out.begin(), out.end());
  return out;
}

size_t site_index(const std::vector<Frame>& stack) { return SiteRule().site_index(stack); }

bool is_allocation_profile(const Profile& profile) {
  for (const ValueType& t : profile.sample_types)
    if (t.type == "inuse_space" || t.type == "alloc_space") return true;
  return false;
}

std::string site_key(const Frame& site) {
  if (!site.function.empty() && !is_unsymbolized(site))
    return site.function + "\t" + site.file + "\t" + std::to_string(site.line);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(site.address));
  return std::string(buf) + "\t" + site.mapping;
}

}  // namespace leakscope::analysis
