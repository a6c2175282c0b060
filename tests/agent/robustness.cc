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
//   pause    waits for a signal, forever (a C++ host for the script to talk to)
//   crash    dereferences a null pointer (the script expects death by SIGSEGV)
//   jit      registers the executable's .eh_frame as a JIT would (__register_frame), then
//            unwinds: libgcc then takes its object_mutex on every frame and allocates under it
//            (issue 18's reproduction; it hung under the agent at rate 1)
//   jitthreads FILE  the same registration, then 4 threads unwind, throw, allocate and
//            register/deregister frames until FILE exists (at most 120 s); the script asks for
//            ?debug=2 meanwhile
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unwind.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern "C" void __register_frame(void*);
extern "C" void __deregister_frame(void*);

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

// The start of this executable's .eh_frame, found through its PT_GNU_EH_FRAME header.
void* own_eh_frame() {
  const unsigned char* eh = nullptr;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* arg) {
        for (int k = 0; k < info->dlpi_phnum; ++k) {
          if (info->dlpi_phdr[k].p_type != PT_GNU_EH_FRAME) continue;
          auto* hdr =
              reinterpret_cast<const unsigned char*>(info->dlpi_addr + info->dlpi_phdr[k].p_vaddr);
          int32_t rel;
          memcpy(&rel, hdr + 4, 4);
          *static_cast<const unsigned char**>(arg) = hdr + 4 + rel;
        }
        return 1;  // the executable comes first
      },
      &eh);
  return const_cast<unsigned char*>(eh);
}

_Unwind_Reason_Code count_frame(_Unwind_Context*, void* arg) {
  ++*static_cast<int*>(arg);
  return _URC_NO_REASON;
}

int mode_jit() {
  void* eh = own_eh_frame();
  if (eh == nullptr) return 1;
  __register_frame(eh);
  int frames = 0;
  _Unwind_Backtrace(count_frame, &frames);
  puts("backtrace done");
  return frames > 0 ? 0 : 1;
}

std::atomic<bool> g_stop{false};
std::atomic<long> g_rounds{0};

__attribute__((noinline)) void throw_one(int i) {
  if (i >= 0) throw std::runtime_error("jit round");
}

void* jit_worker(void* arg) {
  void* eh = arg;
  for (long i = 0; !g_stop.load(); ++i) {
    int frames = 0;
    _Unwind_Backtrace(count_frame, &frames);
    try {
      throw_one(static_cast<int>(i));
    } catch (const std::exception&) {
    }
    free(malloc(64 + i % 512));
    if (i % 8 == 0) {  // a new object: libgcc sorts it (and allocates) under object_mutex
      __register_frame(eh);
      __deregister_frame(eh);
    }
    g_rounds.fetch_add(1);
  }
  return nullptr;
}

int mode_jitthreads(const char* stop_file) {
  void* eh = own_eh_frame();
  if (eh == nullptr) return 1;
  __register_frame(eh);
  constexpr int kThreads = 4;
  pthread_t threads[kThreads];
  for (pthread_t& t : threads) {
    if (pthread_create(&t, nullptr, jit_worker, eh) != 0) return 1;
  }
  for (int i = 0; i < 12000 && access(stop_file, F_OK) != 0; ++i) usleep(10000);
  g_stop.store(true);
  for (pthread_t& t : threads) pthread_join(t, nullptr);
  int frames = 0;
  _Unwind_Backtrace(count_frame, &frames);
  printf("backtrace done after %ld rounds\n", g_rounds.load());
  return frames > 0 && g_rounds.load() > 0 ? 0 : 1;
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
  if (strcmp(mode, "jit") == 0) return mode_jit();
  if (strcmp(mode, "pause") == 0) {
    for (;;) pause();
  }
  if (strcmp(mode, "crash") == 0) {
    volatile int* volatile nowhere = nullptr;
    return *nowhere;
  }
  if (strcmp(mode, "jitthreads") == 0 && argc > 2) return mode_jitthreads(argv[2]);
  fprintf(stderr, "usage: %s fork|exec|signal|threads|dlerror\n", argv[0]);
  return 2;
}
