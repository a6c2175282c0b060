// A long-running program with named allocation sites, for the debug-server tests
// (tests/integration/agent_go_pprof.sh, agent_server.sh): it keeps ~64 MiB live through
// `leaky_cache_insert` (operator new) and ~16 MiB through `session_buffer_alloc` (malloc), then
// waits until it is killed. Writes "ready" to the file named by argv[1] when done allocating.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

std::vector<char*>* g_cache;
std::vector<void*>* g_sessions;

extern "C" __attribute__((noinline)) void leaky_cache_insert(size_t n) {
  g_cache->push_back(new char[n]);
}

extern "C" __attribute__((noinline)) void session_buffer_alloc(size_t n) {
  g_sessions->push_back(malloc(n));
}

int main(int argc, char** argv) {
  g_cache = new std::vector<char*>();
  g_sessions = new std::vector<void*>();
  g_cache->reserve(1 << 16);
  g_sessions->reserve(1 << 16);
  for (int i = 0; i < 16384; ++i) leaky_cache_insert(4096);
  for (int i = 0; i < 2048; ++i) session_buffer_alloc(8192);
  if (argc > 1) {
    FILE* f = fopen(argv[1], "w");
    if (f != nullptr) {
      fputs("ready\n", f);
      fclose(f);
    }
  }
  for (;;) pause();
}
