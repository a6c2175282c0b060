// Ground truth for the descriptor hooks' stack cache (agent/stacks/track_fds_stack.cc): one open()
// call site reached from two callers whose frames are laid out identically, so the hook sees the
// same return address and the same stack pointer from both. Only the return address one frame up
// differs; the cache must tell the two apart on every call.
//
//   fd_cache_sites STATUS_FILE N
//
// Opens N descriptors through via_caller_a() and N through via_caller_b(), interleaved (a, b, a,
// b, ...), plus N through a recursive chain of depth 3 (via_depth), keeps them open, appends
// "opened" to STATUS_FILE and waits for SIGTERM.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

extern "C" {

__attribute__((noinline)) int shared_open_site() {
  int fd = open("/dev/null", O_RDONLY);
  asm volatile("" ::: "memory");  // no tail call: the hook must return into this function
  return fd;
}

// Identical bodies: identical frames, so shared_open_site() runs at the same stack depth.
__attribute__((noinline)) int via_caller_a() {
  int fd = shared_open_site();
  asm volatile("" ::: "memory");
  return fd;
}

__attribute__((noinline)) int via_caller_b() {
  int fd = shared_open_site();
  asm volatile("" ::: "memory");
  return fd;
}

__attribute__((noinline)) int via_depth(int depth) {
  int fd = depth == 0 ? shared_open_site() : via_depth(depth - 1);
  asm volatile("" ::: "memory");
  return fd;
}

}  // extern "C"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fd_cache_sites STATUS_FILE N\n");
    return 2;
  }
  int n = std::atoi(argv[2]);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  for (int i = 0; i < n; ++i) {
    if (via_caller_a() < 0 || via_caller_b() < 0 || via_depth(3) < 0) return 1;
  }
  FILE* f = std::fopen(argv[1], "a");
  std::fprintf(f, "opened\n");
  std::fclose(f);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
