// The program of tests/integration/agent_pprof_readers.sh, built there as C and as C++ with
// every flag combination of the matrix. Each site is its own function, so a reader that names
// frames names these: a static function (only .symtab knows it), exported ones, a function of
// a shared library (lib.c) and one of a plugin loaded with dlopen after start (plugin.c).
// argv[1]: file that receives "ready"; argv[2]: the plugin's path.
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLOCK (256 << 10)

#ifdef __cplusplus
extern "C" void lib_keep(void);
#else
void lib_keep(void);
#endif

static void* g_keep[256];
static int g_kept;

static void keep(void* p) {
  memset(p, 1, BLOCK);
  g_keep[g_kept++] = p;
}

__attribute__((noinline)) static void keep_static(void) {  // 4 MiB
  for (int i = 0; i < 16; ++i) keep(malloc(BLOCK));
}

__attribute__((noinline)) void keep_exported(void) {  // 8 MiB
  for (int i = 0; i < 32; ++i) keep(malloc(BLOCK));
}

#ifdef __cplusplus
__attribute__((noinline)) void keep_new() {  // 6 MiB
  for (int i = 0; i < 24; ++i) keep(new char[BLOCK]);
}
#endif

__attribute__((noinline)) void open_pipes(void) {  // 3 pipes: 6 descriptors
  for (int i = 0; i < 3; ++i) {
    int fds[2];
    if (pipe(fds) != 0) abort();
  }
}

static void* park(void* arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

__attribute__((noinline)) void start_worker(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, park, NULL) != 0) abort();
}

__attribute__((noinline)) void map_region(void) {  // 4 MiB of anonymous memory
  void* p = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) abort();
  memset(p, 1, 4 << 20);
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  keep_static();
  keep_exported();
#ifdef __cplusplus
  keep_new();
#endif
  open_pipes();
  start_worker();
  map_region();
  lib_keep();
  void* plugin = dlopen(argv[2], RTLD_NOW);
  if (plugin == NULL) return 3;
  void (*plugin_keep)(void) = (void (*)(void))dlsym(plugin, "plugin_keep");
  if (plugin_keep == NULL) return 3;
  plugin_keep();
  FILE* f = fopen(argv[1], "w");
  if (f == NULL) return 4;
  fputs("ready\n", f);
  fclose(f);
  for (;;) pause();
}
