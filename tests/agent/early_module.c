// Preloaded next to the agent by tests/integration/agent_robustness.sh: its constructor
// allocates with every C function before (or after, depending on the loader's order) the
// agent's own constructor, so the hooks must resolve the real functions lazily on first use.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((constructor)) static void early_allocations(void) {
  char* a = calloc(16, 16);
  char* b = malloc(100);
  void* c = NULL;
  int ok = a != NULL && b != NULL && a[255] == 0 && posix_memalign(&c, 64, 64) == 0;
  b = realloc(b, 4000);
  ok = ok && b != NULL;
  if (b != NULL) memset(b, 1, 4000);
  free(a);
  free(b);
  free(c);
  fputs(ok ? "early allocations ok\n" : "early allocations FAILED\n", stderr);
}
