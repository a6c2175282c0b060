// Feeds the agent a million distinct stacks (tests/integration/agent_bounded.sh): a recursion
// of depth 10 that goes through one of four functions according to two bits of a counter, so
// 4^10 = 2^20 paths are 2^20 distinct stacks, each ending in a malloc/free. Then it writes its
// VmRSS (kB) to argv[1] and waits to be killed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
void go_0(int depth, unsigned bits);
void go_1(int depth, unsigned bits);
void go_2(int depth, unsigned bits);
void go_3(int depth, unsigned bits);

__attribute__((noinline)) void descend(int depth, unsigned bits) {
  if (depth == 0) {
    void* volatile p = malloc(16);
    free(p);
    return;
  }
  switch (bits & 3) {
    case 0:
      go_0(depth - 1, bits >> 2);
      break;
    case 1:
      go_1(depth - 1, bits >> 2);
      break;
    case 2:
      go_2(depth - 1, bits >> 2);
      break;
    default:
      go_3(depth - 1, bits >> 2);
      break;
  }
  __asm__ volatile("" ::: "memory");  // no tail call: every level keeps its frame
}

#define LEAKSCOPE_GO(n)                                             \
  __attribute__((noinline)) void go_##n(int depth, unsigned bits) { \
    descend(depth, bits);                                           \
    __asm__ volatile("" ::: "memory");                              \
  }
LEAKSCOPE_GO(0)
LEAKSCOPE_GO(1)
LEAKSCOPE_GO(2)
LEAKSCOPE_GO(3)
}

static long vm_rss_kb() {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f != nullptr && fgets(line, sizeof(line), f) != nullptr) {
    if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
  }
  if (f != nullptr) fclose(f);
  return kb;
}

int main(int argc, char** argv) {
  constexpr unsigned kStacks = 1u << 20;
  for (unsigned i = 0; i < kStacks; ++i) descend(10, i);
  FILE* f = argc > 1 ? fopen(argv[1], "w") : stdout;
  if (f == nullptr) return 1;
  fprintf(f, "%ld\n", vm_rss_kb());
  if (f != stdout) fclose(f);
  if (argc > 2) return 0;  // "once": do not wait
  for (;;) pause();
}
