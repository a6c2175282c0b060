// dlsym(RTLD_NEXT) for every hook group (see hook_table.h for the why).
#include "agent/hooks/hook_table.h"

#include <dlfcn.h>

namespace leakscope::agent {

void* next_symbol(const char* name, const char* version) {
  void* p = version != nullptr ? dlvsym(RTLD_NEXT, name, version) : nullptr;
  return p != nullptr ? p : dlsym(RTLD_NEXT, name);
}

bool lookup_hooks(const char* group, const HookEntry* entries, size_t n, void** found) {
  ReentryGuard guard;  // dlsym allocates
  bool ok = true;
  for (size_t i = 0; i < n; ++i) {
    found[i] = next_symbol(entries[i].name);
    if (found[i] == nullptr && entries[i].required) {
      agent_logf("cannot resolve %s (%s) with dlsym(RTLD_NEXT)", entries[i].name, group);
      ok = false;
    }
  }
  return ok;
}

}  // namespace leakscope::agent
