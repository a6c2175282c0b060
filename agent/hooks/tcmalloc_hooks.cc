// gperftools' tc_* calls that take a block. A program linked with libtcmalloc may pass a block it
// got from malloc (or new) to tc_free, tc_delete*, tc_realloc or tc_malloc_size, and with the agent
// in front of tcmalloc that block may be a sampled one in the agent's sample region (region.h),
// which tcmalloc does not own. So the agent interposes them: a block of ours goes to the agent's
// own free, realloc or malloc_usable_size; any other to tcmalloc's function. The tc_* calls that
// allocate are not interposed (their blocks are tcmalloc's and never sampled). Without tcmalloc
// below (a library probing the names) each falls back to its standard equivalent.
#include "agent/hooks/real_functions.h"
#include "agent/heap/region.h"

using namespace leakscope::agent;

extern "C" {

#define LEAKSCOPE_TC_FREE(name, params, args)                             \
  LEAKSCOPE_EXPORT void name params noexcept {                            \
    if (LEAKSCOPE_LIKELY(!maybe_ours(p)) && g_real.name != nullptr) {     \
      return g_real.name args;                                            \
    }                                                                     \
    free(p); /* ours, a sampled host block (no region), or no tcmalloc */ \
  }
LEAKSCOPE_TC_FREES(LEAKSCOPE_TC_FREE)
#undef LEAKSCOPE_TC_FREE

LEAKSCOPE_EXPORT void* tc_realloc(void* p, size_t size) noexcept {
  if (LEAKSCOPE_LIKELY(!maybe_ours(p)) && g_real.tc_realloc != nullptr) {
    return g_real.tc_realloc(p, size);
  }
  return realloc(p, size);
}

LEAKSCOPE_EXPORT size_t tc_malloc_size(void* p) noexcept {
  if (LEAKSCOPE_LIKELY(!maybe_ours(p)) && g_real.tc_malloc_size != nullptr) {
    return g_real.tc_malloc_size(p);
  }
  return malloc_usable_size(p);
}

}  // extern "C"
