// dlsym(RTLD_NEXT) for every hook group (see hook_table.h for the why).
#include "agent/hooks/hook_table.h"

#include <dlfcn.h>

namespace leakscope::agent {

bool lookup_hooks(const char* group, const HookEntry* entries, size_t n, void** found) {
  ReentryGuard guard;  // dlsym allocates
  bool ok = true;
  for (size_t i = 0; i < n; ++i) {
    found[i] = dlsym(RTLD_NEXT, entries[i].name);
    if (found[i] == nullptr && entries[i].required) {
      agent_logf("cannot resolve %s (%s) with dlsym(RTLD_NEXT)", entries[i].name, group);
      ok = false;
    }
  }
  return ok;
}

}  // namespace leakscope::agent
