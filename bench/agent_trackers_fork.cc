// fork() cost after many threads have come and gone: `agent_trackers_fork THREADS FORKS` starts
// and joins THREADS threads one after another, then forks FORKS children that _exit at once,
// and prints the mean wall time per fork + waitpid. Run with and without the agent
// (BENCHMARKS.md, "fork after 40,000 threads").
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

void* nothing(void*) { return nullptr; }

}  // namespace

int main(int argc, char** argv) {
  long threads = argc > 1 ? std::atol(argv[1]) : 40000;
  long forks = argc > 2 ? std::atol(argv[2]) : 2000;
  for (long i = 0; i < threads; ++i) {
    pthread_t t;
    if (pthread_create(&t, nullptr, nothing, nullptr) != 0) return 1;
    pthread_join(t, nullptr);
  }
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < forks; ++i) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0 || waitpid(pid, nullptr, 0) != pid) return 1;
  }
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::printf("threads=%ld forks=%ld us_per_fork=%.1f\n", threads, forks, us / forks);
  return 0;
}
