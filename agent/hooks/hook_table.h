// The one mechanism by which a hook finds the function it stands in front of.
//
// Each group of hooks is an X-macro list, X(name, required), declared once beside its hooks:
// LEAKSCOPE_ALLOC_FUNCTIONS (real_functions.h), LEAKSCOPE_FD_FUNCTIONS (track_fds_hooks.cc),
// LEAKSCOPE_THREAD_FUNCTIONS (track_threads_hooks.cc). LEAKSCOPE_HOOK_GROUP turns a list into a
// struct of typed pointers, decltype(&::name), so a hook can never disagree with libc's
// prototype; resolve_hook_group() fills one from dlsym(RTLD_NEXT, ...): the next definition in
// lookup order (jemalloc's on redis-server, tcmalloc's under libtcmalloc, glibc's otherwise).
//
// Two ways to use a group:
//  - eager, all or nothing (the allocator): resolved once at init; nothing is published unless
//    every required entry was found, so until then the hooks answer from the bootstrap buffer
//    (real_functions.h);
//  - lazy (descriptors, threads): LazyHookGroup resolves on the first call through it and
//    publishes what it found, logging the required entries that are missing.
// libgcc's frame-registry functions (stacks/unwind_hooks.cc) have no public prototypes, so their
// table holds untyped pointers, but they are found the same way: next_symbol(), with their
// symbol version.
#pragma once

#include <atomic>
#include <cstddef>

#include "agent/agent_internal.h"

namespace leakscope::agent {

struct HookEntry {
  const char* name;
  bool required;
};

#define LEAKSCOPE_HOOK_FIELD(name, required) decltype(&::name) name = nullptr;
#define LEAKSCOPE_HOOK_ENTRY(name, required) HookEntry{#name, required},
#define LEAKSCOPE_HOOK_PUBLISH(name, required) \
  __atomic_store_n(&this->name, reinterpret_cast<decltype(&::name)>(*found++), __ATOMIC_RELEASE);

// struct Type { one typed pointer per entry; its entries; publish(found) stores them in order }.
#define LEAKSCOPE_HOOK_GROUP(Type, LIST)                                                 \
  struct Type {                                                                          \
    LIST(LEAKSCOPE_HOOK_FIELD)                                                           \
    static constexpr HookEntry kEntries[] = {LIST(LEAKSCOPE_HOOK_ENTRY)};                \
    static constexpr size_t kCount = sizeof(kEntries) / sizeof(kEntries[0]);             \
    /* Entry by entry, with release stores: another thread may be calling through it. */ \
    void publish(void* const* found) { LIST(LEAKSCOPE_HOOK_PUBLISH) }                    \
  }

// The next definition of `name` in lookup order, dlsym(RTLD_NEXT); of symbol version `version`
// first when one is given. Null when there is none. Call with a ReentryGuard (dlsym allocates).
LEAKSCOPE_HIDDEN void* next_symbol(const char* name, const char* version = nullptr);

// dlsym(RTLD_NEXT) for each of `n` entries into found[0..n); logs each missing required entry
// (naming `group`). Returns whether every required entry was found.
LEAKSCOPE_HIDDEN bool lookup_hooks(const char* group, const HookEntry* entries, size_t n,
                                   void** found);

// Resolves a group; with `all_or_nothing`, publishes only when every required entry was found.
template <typename Group>
bool resolve_hook_group(Group& group, const char* name, bool all_or_nothing) {
  void* found[Group::kCount];
  bool ok = lookup_hooks(name, Group::kEntries, Group::kCount, found);
  if (ok || !all_or_nothing) group.publish(found);
  return ok;
}

// A group resolved on first use. Concurrent first calls resolve twice and store equal values.
template <typename Group>
class LazyHookGroup {
 public:
  explicit constexpr LazyHookGroup(const char* name) : name_(name) {}

  const Group& get() {
    if (!resolved_.load(std::memory_order_acquire)) [[unlikely]]
      resolve();
    return group_;
  }

 private:
  __attribute__((noinline)) void resolve() {
    resolve_hook_group(group_, name_, false);
    resolved_.store(true, std::memory_order_release);
  }

  Group group_;
  std::atomic<bool> resolved_{false};
  const char* name_;
};

}  // namespace leakscope::agent
