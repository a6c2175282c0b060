// Accuracy test program (tests/integration/agent_accuracy.sh): three allocation sites with a
// known truth, in rounds. Each round:
//   site_keep_4k     keeps 40 MiB live in 4 KiB blocks
//   site_keep_256    keeps  8 MiB live in 256-byte blocks
//   site_churn_1g    allocates and frees 1 GiB in 64 KiB blocks (nothing stays live)
// then raises the agent's dump signal and waits for that round's heap dump to appear, then
// frees the kept blocks. Rounds are independent samples of the same truth, so the test can
// average them (see the script for the statistics). Built without PIE so that `nm` addresses
// are the run-time addresses.
//
// usage: accuracy_sites ROUNDS DUMP_DIR SIGNAL_NUMBER
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEEP_4K_COUNT (40 * 1024 / 4)
#define KEEP_256_COUNT (8 * 1024 * 1024 / 256)
#define KEEP_1M_COUNT 8
#define CHURN_BLOCK (64 * 1024)
#define CHURN_COUNT (1024 * 1024 * 1024 / CHURN_BLOCK)

static void* kept_4k[KEEP_4K_COUNT];
static void* kept_256[KEEP_256_COUNT];
static void* kept_1m[KEEP_1M_COUNT];

__attribute__((noinline)) void site_keep_4k(void) {
  for (int i = 0; i < KEEP_4K_COUNT; ++i) kept_4k[i] = malloc(4096);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void site_keep_256(void) {
  for (int i = 0; i < KEEP_256_COUNT; ++i) kept_256[i] = malloc(256);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void site_keep_1m(void) {
  for (int i = 0; i < KEEP_1M_COUNT; ++i) kept_1m[i] = malloc(1 << 20);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void site_churn_1g(void) {
  for (int i = 0; i < CHURN_COUNT; ++i) {
    void* volatile p = malloc(CHURN_BLOCK);
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
  for (int round = 1; round <= rounds; ++round) {
    site_keep_4k();
    site_keep_256();
    site_keep_1m();
    site_churn_1g();
    raise(signo);
    for (int waited = 0; !dump_exists(dir, round); ++waited) {
      if (waited > 30000) {
        fprintf(stderr, "accuracy_sites: no dump for round %d\n", round);
        return 1;
      }
      usleep(1000);
    }
    for (int i = 0; i < KEEP_4K_COUNT; ++i) free(kept_4k[i]);
    for (int i = 0; i < KEEP_256_COUNT; ++i) free(kept_256[i]);
    for (int i = 0; i < KEEP_1M_COUNT; ++i) free(kept_1m[i]);
  }
  return 0;
}
