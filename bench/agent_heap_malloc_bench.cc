// A 2-thread, malloc-heavy benchmark for the agent's overhead (bench/agent_heap_bench.sh):
// each thread keeps a pool of 4096 live blocks and replaces a random one per iteration
// (sizes 16..1024 bytes, some through operator new), so the allocator and the agent's hooks
// dominate. Prints the wall time in seconds.
//
// usage: agent_heap_malloc_bench [ITERATIONS_PER_THREAD]
#include <pthread.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

namespace {

long g_iterations = 20000000;

void* worker(void* arg) {
  constexpr int kPool = 4096;
  void* pool[kPool] = {};
  uint64_t x = reinterpret_cast<uintptr_t>(arg) * 0x9e3779b97f4a7c15ull + 1;
  for (long i = 0; i < g_iterations; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int slot = static_cast<int>(x % kPool);
    size_t size = 16 + (x >> 20) % 1009;
    if ((x >> 40) % 4 == 0) {
      ::operator delete(pool[slot]);
      pool[slot] = ::operator new(size);
    } else {
      free(pool[slot]);
      pool[slot] = malloc(size);
    }
    static_cast<char*>(pool[slot])[0] = 1;
  }
  for (void* p : pool) free(p);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_iterations = atol(argv[1]);
  timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pthread_t threads[2];
  for (int i = 0; i < 2; ++i) {
    pthread_create(&threads[i], nullptr, worker,
                   reinterpret_cast<void*>(static_cast<uintptr_t>(i + 1)));
  }
  for (pthread_t t : threads) pthread_join(t, nullptr);
  clock_gettime(CLOCK_MONOTONIC, &end);
  printf("%.4f\n", (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9);
  return 0;
}
