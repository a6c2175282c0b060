// A held-out-style allocation-heavy program for the agent's cost at the limit
// (bench/agent_cost.sh, BENCHMARKS.md "The agent's cost at the limit"). It knows nothing of the
// agent and is built like any host, with plain -O2 -g (no frame pointers).
//
// THREADS threads (default 2) share a working set of 50,000 live blocks (each thread owns its
// share). Every iteration a thread replaces one random block of its share with a new one of a
// random size in 16..2064 bytes (most small, as real heaps are: a quarter are 16..80 bytes, a
// quarter 16..272, a quarter 16..1040 and a quarter 16..2064), a tenth of them through operator
// new, and churns a std::map<std::string, std::string> of up to 2,000 entries per thread (an
// insert of a fresh 20..60-character key and value, an erase of a random old key): node
// allocations, string buffers and tree rebalancing, as a service's request handling does.
//
// usage: agent_cost_churn [ITERATIONS_PER_THREAD] [THREADS]     (default 1,000,000, 2)
// Prints a checksum (so no work is optimised away); time it from outside.
#include <pthread.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

namespace {

constexpr long kWorkingSet = 50000;
constexpr size_t kMapEntries = 2000;
long g_iterations = 1000000;
int g_threads = 2;

struct Rng {
  uint64_t x;
  uint64_t next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
};

size_t block_size(Rng& rng) {
  static constexpr size_t kSpan[4] = {64, 256, 1024, 2048};
  uint64_t r = rng.next();
  return 16 + (r >> 8) % (kSpan[r & 3] + 1);
}

std::string text(Rng& rng) {
  size_t n = 20 + rng.next() % 41;
  std::string s(n, 'a');
  for (size_t i = 0; i < n; i += 8) s[i] = static_cast<char>('a' + rng.next() % 26);
  return s;
}

struct Block {
  void* p = nullptr;
  bool is_new = false;
};

void release(Block& b) {
  if (b.is_new) {
    ::operator delete(b.p);
  } else {
    free(b.p);
  }
}

void* worker(void* arg) {
  Rng rng{reinterpret_cast<uintptr_t>(arg) * 0x9e3779b97f4a7c15ull + 1};
  std::vector<Block> blocks(static_cast<size_t>(kWorkingSet / g_threads));
  std::map<std::string, std::string> map;
  uint64_t sum = 0;
  for (long i = 0; i < g_iterations; ++i) {
    Block& b = blocks[rng.next() % blocks.size()];
    release(b);
    size_t size = block_size(rng);
    b.is_new = rng.next() % 10 == 0;
    b.p = b.is_new ? ::operator new(size) : malloc(size);
    static_cast<char*>(b.p)[size - 1] = 1;
    if (i % 2 == 0) {
      map.emplace(text(rng), text(rng));
      if (map.size() > kMapEntries) {
        auto it = map.lower_bound(text(rng));
        if (it == map.end()) it = map.begin();
        sum += it->second.size();
        map.erase(it);
      }
    }
  }
  for (Block& b : blocks) release(b);
  return reinterpret_cast<void*>(sum + map.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_iterations = atol(argv[1]);
  if (argc > 2) g_threads = atoi(argv[2]);
  if (g_iterations <= 0 || g_threads <= 0 || g_threads > 256) {
    fprintf(stderr, "usage: agent_cost_churn [ITERATIONS_PER_THREAD] [THREADS]\n");
    return 2;
  }
  std::vector<pthread_t> threads(static_cast<size_t>(g_threads));
  for (int i = 0; i < g_threads; ++i) {
    pthread_create(&threads[i], nullptr, worker, reinterpret_cast<void*>(uintptr_t(i) + 1));
  }
  uint64_t sum = 0;
  for (pthread_t t : threads) {
    void* r;
    pthread_join(t, &r);
    sum += reinterpret_cast<uintptr_t>(r);
  }
  printf("%llu\n", static_cast<unsigned long long>(sum));
  return 0;
}
