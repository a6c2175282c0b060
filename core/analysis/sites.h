// Naming a site: a stack is cut at its first frame in the user's code. The leaf of an allocation
// stack is nearly always the allocator (malloc, operator new, runtime.mallocgc), of a thread stack
// pthread_create, of an fd stack open() or socket(): true, and useless. The site is the first
// frame, leaf first, that is none of: an allocator or libc entry point, the C++ standard library
// (std::, __gnu_cxx::), the Go runtime and standard library, Rust's std, core, alloc and hashbrown
// (by crate name in .rs frames, or by std's source paths), the agent itself, or an unsymbolized
// address inside a system library; a user helper inlined into a user function counts as that
// function (its frames share one address). If every frame is such, the site is the first frame past
// the innermost runtime layers (Go's runtime, sync, syscall, internal; the allocator), so a
// goroutine of net/http's transport is named net/http.(*persistConn).readLoop; failing that, the
// leaf.
#pragma once

#include <string>
#include <vector>

#include "core/profile/profile_ops.h"

namespace leakscope::analysis {

// True when `frame` belongs to an allocator, a runtime, the standard library or the agent.
bool is_runtime_frame(const Frame& frame);

// True when `frame` is inside a memory allocator: malloc and its family, operator new, or any
// frame of libjemalloc, libtcmalloc or libmimalloc. An mmap made under such a frame is the
// allocator's own arena, already seen (as live objects) by the heap profile.
bool is_allocator_frame(const Frame& frame);

// Index (into the leaf-first `stack`) of the site frame; 0 for an empty stack.
size_t site_index(const std::vector<Frame>& stack);

// The key that identifies a site frame across snapshots: function, file and line, or its
// address and mapping when unsymbolized. (SiteSeriesBuilder adds the caller's name to it.)
std::string site_key(const Frame& site);

}  // namespace leakscope::analysis
