// A shared library the matrix's programs link against (tests/agent/readers/prog.c).
#include <stdlib.h>
#include <string.h>

static void* g_lib[16];

__attribute__((noinline)) void lib_keep(void) {  // 3 MiB
  for (int i = 0; i < 12; ++i) {
    g_lib[i] = malloc(256 << 10);
    memset(g_lib[i], 1, 256 << 10);
  }
}
