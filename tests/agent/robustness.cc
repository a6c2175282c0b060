// Robustness checks run under the agent by tests/integration/agent_robustness.sh; each mode
// exits 0 when the host behaved normally.
//   fork     the child of fork() keeps allocating (with threads) under its own agent state
//   exec     prints the LD_PRELOAD an exec'd child sees (the script checks it)
//   signal   a SIGALRM handler allocates and frees while the main thread allocates (rate 1:
//            every allocation is in the agent's slow path when the signal lands)
//   threads  2000 short-lived threads allocate and exit
//   forkhold forks a child that sleeps 30 s, writes the child's pid to argv[2], then pauses
//   dlerror  dlsym failures (dlerror's buffer is calloc'd inside libdl) and dlopen of a
//            missing file, under sampling
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

std::atomic<long> g_handled{0};

void* churn(void*) {
  for (int i = 0; i < 200; ++i) free(malloc(32 + i));
  return nullptr;
}

int mode_fork() {
  void* before = malloc(1 << 20);
  for (int round = 0; round < 20; ++round) {
    pid_t pid = fork();
    if (pid == 0) {
      for (int i = 0; i < 10000; ++i) free(malloc(64 + i % 4096));
      pthread_t t;
      if (pthread_create(&t, nullptr, churn, nullptr) != 0) _exit(2);
      pthread_join(t, nullptr);
      free(before);  // a block allocated (maybe sampled) by the parent
      _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "fork child failed: %d\n", status);
      return 1;
    }
  }
  free(before);
  return 0;
}

int mode_exec() {
  fflush(stdout);
  execl("/bin/sh", "sh", "-c", "echo \"child LD_PRELOAD=[$LD_PRELOAD]\"",
        static_cast<char*>(nullptr));
  perror("execl");
  return 1;
}

void on_alarm(int) {
  void* p = malloc(128);
  free(p);
  g_handled.fetch_add(1);
}

int mode_signal() {
  struct sigaction sa {};
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, nullptr);
  itimerval it{{0, 200}, {0, 200}};
  setitimer(ITIMER_REAL, &it, nullptr);
  for (int i = 0; i < 2000000 || g_handled.load() < 100; ++i) {
    free(malloc(16 + i % 1024));
    if (i > 50000000) break;
  }
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  printf("signals handled: %ld\n", g_handled.load());
  return g_handled.load() >= 100 ? 0 : 1;
}

int mode_threads() {
  for (int i = 0; i < 2000; ++i) {
    pthread_t t;
    if (pthread_create(&t, nullptr, churn, nullptr) != 0) return 1;
    if (i % 2) {
      pthread_join(t, nullptr);
    } else {
      pthread_detach(t);
    }
  }
  usleep(100000);
  return 0;
}

int mode_forkhold(const char* pid_file) {
  pid_t pid = fork();
  if (pid == 0) {
    sleep(30);
    _exit(0);
  }
  FILE* f = fopen(pid_file, "w");
  if (f == nullptr) return 1;
  fprintf(f, "%d\n", static_cast<int>(pid));
  fclose(f);
  for (;;) pause();
}

int mode_dlerror() {
  for (int i = 0; i < 1000; ++i) {
    if (dlsym(RTLD_DEFAULT, "leakscope_no_such_symbol") != nullptr) return 1;
    if (dlerror() == nullptr) return 1;
    if (dlopen("/nonexistent/libnothing.so", RTLD_NOW) != nullptr) return 1;
    if (dlerror() == nullptr) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "fork") == 0) return mode_fork();
  if (strcmp(mode, "exec") == 0) return mode_exec();
  if (strcmp(mode, "signal") == 0) return mode_signal();
  if (strcmp(mode, "threads") == 0) return mode_threads();
  if (strcmp(mode, "dlerror") == 0) return mode_dlerror();
  if (strcmp(mode, "forkhold") == 0 && argc > 2) return mode_forkhold(argv[2]);
  fprintf(stderr, "usage: %s fork|exec|signal|threads|dlerror\n", argv[0]);
  return 2;
}
