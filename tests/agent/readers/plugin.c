// A plugin the matrix's programs dlopen after start (tests/agent/readers/prog.c).
#include <stdlib.h>
#include <string.h>

static void* g_plugin[16];

__attribute__((noinline)) void plugin_keep(void) {  // 2 MiB
  for (int i = 0; i < 8; ++i) {
    g_plugin[i] = malloc(256 << 10);
    memset(g_plugin[i], 1, 256 << 10);
  }
}
