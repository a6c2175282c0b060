// Accuracy under the sample budget (tests/integration/agent_budget_accuracy.sh): a thread that
// allocates so fast that the agent raises its heap rate (LEAKSCOPE_MAX_SAMPLES_PER_SEC), with a
// known truth. Each round, interleaved:
//   site_keep     keeps 64 MiB live in blocks of 256, 768, 1280 and 1792 bytes (16,384 of each)
//   site_churn    allocates and frees 16 blocks of 64..1024 bytes per kept block
// so the kept blocks are sampled at whatever rates the budget sets while the churn runs, and
// the churn's frees must subtract exactly what its samples added (each at its own rate). Then it
// raises the agent's dump signal, waits for that round's heap dump, and frees the kept blocks.
//
// usage: budget_sites ROUNDS DUMP_DIR SIGNAL_NUMBER
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define KEEP_PER_SIZE 16384
#define KEEP_COUNT (4 * KEEP_PER_SIZE)
static void* kept[KEEP_COUNT];
static const int kSizes[4] = {256, 768, 1280, 1792};  // mean 1024 bytes: 64 MiB in all

__attribute__((noinline)) void* site_keep(int size) {
  void* p = malloc((size_t)size);
  __asm__ volatile("" ::: "memory");
  return p;
}

__attribute__((noinline)) void site_churn(unsigned* x) {
  for (int i = 0; i < 16; ++i) {
    *x = *x * 1103515245u + 12345u;
    void* volatile p = malloc(64 + (*x >> 8) % 961);
    free(p);
  }
}

static int dump_exists(const char* dir, int round) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/heap.%d.%04d.pb.gz", dir, (int)getpid(), round);
  return access(path, F_OK) == 0;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s ROUNDS DUMP_DIR SIGNAL_NUMBER\n", argv[0]);
    return 2;
  }
  int rounds = atoi(argv[1]);
  const char* dir = argv[2];
  int signo = atoi(argv[3]);
  unsigned x = 1;
  for (int round = 1; round <= rounds; ++round) {
    for (int i = 0; i < KEEP_COUNT; ++i) {
      kept[i] = site_keep(kSizes[i & 3]);
      site_churn(&x);
    }
    raise(signo);
    for (int waited = 0; !dump_exists(dir, round); ++waited) {
      if (waited > 30000) {
        fprintf(stderr, "budget_sites: no dump for round %d\n", round);
        return 1;
      }
      usleep(1000);
    }
    for (int i = 0; i < KEEP_COUNT; ++i) free(kept[i]);
  }
  return 0;
}
