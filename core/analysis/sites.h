// Naming a site: the one rule that `run`, `watch` and `diff` share. A stack is cut at its first
// frame in the user's code. The leaf of an allocation stack is nearly always the allocator
// (malloc, operator new, runtime.mallocgc), of a thread stack pthread_create, of an fd stack
// open() or socket(): true, and useless. The site is the first frame, leaf first, that is none of:
// an allocator or libc entry point, the C++ standard library (std::, __gnu_cxx::), the Go runtime
// and standard library, Rust's std, core, alloc and hashbrown (by crate name in .rs frames, or by
// std's source paths), the agent itself, any frame of an allocator library or its internals
// (jemalloc's je_*, arena_*, malloc_slow; tcmalloc; mimalloc), an unsymbolized address inside a
// system library, a frame the profile's own drop_frames names, or an allocator wrapper (below);
// a user helper inlined into a user function counts as that function (its frames share one
// address). If every frame is such, the site is the first frame past the innermost runtime layers
// (Go's runtime, sync, syscall, internal; the allocator), so a goroutine of net/http's transport is
// named net/http.(*persistConn).readLoop; failing that, the leaf.
//
// Allocator wrappers. In redis every heap stack reads malloc <- zmalloc <- the caller: zmalloc is
// true and useless, like malloc. Wrappers are found from the stacks of a whole profile (or run),
// in rounds, each counting what earlier rounds found as part of the allocator:
//   - a function is *first* when every one of its appearances is the first user frame above an
//     allocator frame, or the leaf of a heap or mmap profile's stack (whose leaf is the caller of
//     malloc or mmap), so it only forwards to the allocator; its callers are the distinct functions
//     right above it there;
//   - a first function with kWrapperCallers or more callers is a wrapper (zmalloc; then, above
//     it, sdsnewlen), and so is one whose name says it is an allocator: it contains malloc,
//     calloc or realloc, in any case (zmalloc_usable, zcalloc, xmalloc, g_malloc0, PyMem_Malloc);
//   - a first function with two or three callers, each of which only ever sits right above a
//     first function, is an *inner layer* (ztrymalloc_usable below zmalloc and zmalloc_usable);
//     once one of its callers is a wrapper, all of them are (zmalloc_usable, with one caller);
//   - four rounds at most: wrappers sit a few calls above the allocator.
// A stack is cut up to the highest wrapper in the run of wrapper and inner-layer frames above its
// allocator; an inner layer with no wrapper above stays the site. So a function of the program
// that really is the leak, called from fewer than four places, is never skipped, nor is one that
// also calls other code that allocates. Users name their own wrappers with SiteOptions::wrappers
// (`--wrapper REGEX`, or `wrapper:` lines in the suppressions file): a frame whose name matches
// is cut like malloc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/profile/profile.h"
#include "core/profile/profile_ops.h"
#include "core/util/result.h"

namespace leakscope::analysis {

// Distinct callers that make a forwarding function an allocator wrapper.
inline constexpr size_t kWrapperCallers = 4;

struct SiteOptions {
  // ECMAScript regexes, each matched anywhere in a function's name without its argument list
  // (anchor with ^ and $): frames whose name matches are wrappers, cut like the allocator.
  std::vector<std::string> wrappers;
  // A profile's own drop_frames (pprof): matched against the whole name, like pprof does.
  std::string drop_frames;
};

// Checks that `pattern` is a regex the rule can use; the error says why not.
Result<void> check_wrapper_pattern(const std::string& pattern);

// The site rule for one profile or run. learn() every stack first (allocator wrappers are found
// from all of them together), then ask site_index() of any stack.
class SiteRule {
 public:
  explicit SiteRule(const SiteOptions& options = {});
  ~SiteRule();
  SiteRule(SiteRule&&) noexcept;
  SiteRule& operator=(SiteRule&&) noexcept;

  // `allocation`: the stack is an allocation's whose leaf is the allocator's caller (the agent's
  // heap and mmap profiles: its hook is malloc itself); a stack with an allocator frame is one
  // anyway. Give the same flag to learn() and site_index().
  void learn(const std::vector<Frame>& stack, bool allocation = false);
  // The stack of every sample whose value `value_index` is not zero (the samples that count),
  // as allocations when the profile is one (is_allocation_profile).
  void learn(const Profile& profile, size_t value_index);

  // Index (into the leaf-first `stack`) of the site frame; 0 for an empty stack.
  size_t site_index(const std::vector<Frame>& stack, bool allocation = false);

  // The functions found to be allocator wrappers (not those named by options; not unsymbolized
  // addresses, which are cut all the same), sorted.
  std::vector<std::string> detected_wrappers();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// True for a heap or mmap profile (pprof's space sample types: inuse_space, alloc_space).
bool is_allocation_profile(const Profile& profile);

// True when `frame` belongs to an allocator, a runtime, the standard library or the agent.
bool is_runtime_frame(const Frame& frame);

// True when `frame` is inside a memory allocator: malloc and its family, operator new, or any
// frame of jemalloc, tcmalloc or mimalloc (by name, or by library). An mmap made under such a
// frame is the allocator's own arena, already seen (as live objects) by the heap profile.
bool is_allocator_frame(const Frame& frame);

// site_index with no options and nothing learned (no wrapper is detected from one stack).
size_t site_index(const std::vector<Frame>& stack);

// The key that identifies a site frame across snapshots: function, file and line, or its
// address and mapping when unsymbolized. (SiteSeriesBuilder adds the caller's name to it.)
std::string site_key(const Frame& site);

}  // namespace leakscope::analysis
