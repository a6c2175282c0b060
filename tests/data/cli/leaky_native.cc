// A native program with a known leak, for tests/integration/cli_native_symbolize.sh: run under
// the agent, it waits for the file argv[1] to appear, then keeps 200 blocks of 64 KiB in
// leaky::Registry::remember (never freed) and frees as many made in scratch_work, writes
// argv[2], and sleeps until killed. Built by the test with -g, so the CLI can symbolize it.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace leaky {

struct Registry {
  std::vector<char*> kept;
  __attribute__((noinline)) void remember(int i) {
    char* block = static_cast<char*>(std::malloc(64 << 10));
    std::memset(block, i, 64 << 10);
    kept.push_back(block);
  }
};

__attribute__((noinline)) long scratch_work(int i) {
  char* block = static_cast<char*>(std::malloc(64 << 10));
  std::memset(block, i, 64 << 10);
  long sum = block[i];
  std::free(block);
  return sum;
}

}  // namespace leaky

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  while (access(argv[1], F_OK) != 0) usleep(20000);
  static leaky::Registry registry;
  long sum = 0;
  for (int i = 0; i < 200; ++i) {
    registry.remember(i);
    sum += leaky::scratch_work(i);
  }
  FILE* f = std::fopen(argv[2], "w");
  std::fprintf(f, "%ld\n", sum);
  std::fclose(f);
  for (;;) pause();
}
