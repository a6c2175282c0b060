// An allocator fault shim for tests/integration/agent_alloc_failure.sh, preloaded *after* the
// agent (so the agent's "real" malloc is this one): in the agent's thread (named "leakscope"),
// every allocation of ALLOC_FAULT_MIN bytes or more fails, as under memory pressure; everything
// else goes to glibc. Deterministic: the same requests fail every time.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);
extern void __libc_free(void*);

static size_t g_min = SIZE_MAX;

__attribute__((constructor)) static void read_min(void) {
  const char* v = getenv("ALLOC_FAULT_MIN");
  if (v != NULL) g_min = strtoull(v, NULL, 10);
}

static int fails(size_t size) {
  if (size < g_min) return 0;
  char name[16] = {0};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  if (strcmp(name, "leakscope") != 0) return 0;
  errno = ENOMEM;
  return 1;
}

void* malloc(size_t size) { return fails(size) ? NULL : __libc_malloc(size); }
void* calloc(size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) total = SIZE_MAX;
  return fails(total) ? NULL : __libc_calloc(n, size);
}
void* realloc(void* p, size_t size) { return fails(size) ? NULL : __libc_realloc(p, size); }
void free(void* p) { __libc_free(p); }
int posix_memalign(void** out, size_t alignment, size_t size) {
  if (fails(size)) return ENOMEM;
  void* p = __libc_memalign(alignment, size);
  if (p == NULL) return ENOMEM;
  *out = p;
  return 0;
}
void* aligned_alloc(size_t alignment, size_t size) {
  return fails(size) ? NULL : __libc_memalign(alignment, size);
}
void* memalign(size_t alignment, size_t size) {
  return fails(size) ? NULL : __libc_memalign(alignment, size);
}
