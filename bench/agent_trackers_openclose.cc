// An open/close loop: the worst case for the descriptor hooks (every call creates or closes).
//
//   agent_trackers_openclose [ITERATIONS]
//
// Opens and closes /dev/null ITERATIONS times (default 300000) from a call site a few frames
// deep, as in a real program, and prints "ns_per_iteration <wall> <cpu>": wall-clock and
// process CPU time per open+close (CPU time is what the hooks add, and is far less disturbed
// than wall time when the machine is shared).
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

__attribute__((noinline)) int open_one(const char* path) {
  return open(path, O_RDONLY | O_CLOEXEC);
}

__attribute__((noinline)) long open_close(long iterations) {
  long failures = 0;
  for (long i = 0; i < iterations; ++i) {
    int fd = open_one("/dev/null");
    if (fd < 0 || close(fd) != 0) ++failures;
  }
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = argc > 1 ? std::atol(argv[1]) : 300000;
  open_close(iterations / 10);  // warm-up: page cache, dentry cache, the agent's tables
  timespec cpu0{}, cpu1{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
  auto start = std::chrono::steady_clock::now();
  long failures = open_close(iterations);
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
  double cpu_ns = (cpu1.tv_sec - cpu0.tv_sec) * 1e9 + (cpu1.tv_nsec - cpu0.tv_nsec);
  if (failures != 0) {
    std::fprintf(stderr, "%ld failures\n", failures);
    return 1;
  }
  std::printf("ns_per_iteration %.1f %.1f\n", ns.count() / static_cast<double>(iterations),
              cpu_ns / static_cast<double>(iterations));
  return 0;
}
