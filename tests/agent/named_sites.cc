// A long-running program with named allocation sites, for the debug-server tests
// (tests/integration/agent_go_pprof.sh, agent_server.sh): it keeps ~64 MiB live through
// `leaky_cache_insert` (operator new) and ~16 MiB through `session_buffer_alloc` (malloc), then
// maps 9 MiB of anonymous memory in `mapped_region_alloc` (1 MiB mmaps) and unmaps the head
// half of the last one (8.5 MiB stay live; one more 1 MiB mapping comes and goes), then waits
// until it is killed. Writes "ready" to the file named by argv[1] when done allocating.
#include <sys/mman.h>
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

extern "C" __attribute__((noinline)) void* mapped_region_alloc(size_t n) {
  void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

int main(int argc, char** argv) {
  g_cache = new std::vector<char*>();
  g_sessions = new std::vector<void*>();
  g_cache->reserve(1 << 16);
  g_sessions->reserve(1 << 16);
  for (int i = 0; i < 16384; ++i) leaky_cache_insert(4096);
  for (int i = 0; i < 2048; ++i) session_buffer_alloc(8192);
  char* last = nullptr;
  for (int i = 0; i < 9; ++i) last = static_cast<char*>(mapped_region_alloc(1 << 20));
  munmap(last, 1 << 19);  // 8.5 MiB live: the head of the last mapping goes
  void* gone = mapped_region_alloc(1 << 20);
  munmap(gone, 1 << 20);
  if (argc > 1) {
    FILE* f = fopen(argv[1], "w");
    if (f != nullptr) {
      fputs("ready\n", f);
      fclose(f);
    }
  }
  for (;;) pause();
}
