// Stress program for tests/integration/agent_stress.sh: 32 threads allocating and freeing
// (malloc, calloc, realloc, new/delete, aligned new), while the main thread forks children
// that allocate and exit, and dlopen()s / dlclose()s a module whose code allocates; at the end
// the process calls exit() while the workers are still allocating. Run at rate 1 so every
// allocation goes through the slow path (unwind, intern, live set).
//
// usage: stress_mix MODULE_PATH [MILLISECONDS]
#include <dlfcn.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

constexpr int kThreads = 32;
std::atomic<bool> g_stop{false};
const char* g_module = nullptr;

using AllocFn = void* (*)(size_t);

void* worker(void* arg) {
  unsigned seed = static_cast<unsigned>(reinterpret_cast<uintptr_t>(arg));
  void* slots[64] = {};
  while (!g_stop.load(std::memory_order_relaxed)) {
    int i = rand_r(&seed) % 64;
    size_t n = 1 + rand_r(&seed) % 2048;
    switch (rand_r(&seed) % 5) {
      case 0:
        free(slots[i]);
        slots[i] = malloc(n);
        break;
      case 1:
        free(slots[i]);
        slots[i] = calloc(1, n);
        break;
      case 2:
        slots[i] = realloc(slots[i], n);
        break;
      case 3: {
        char* p = new char[n];
        p[0] = 1;
        delete[] p;
        break;
      }
      default: {
        void* p = ::operator new (n, std::align_val_t{64});
        ::operator delete (p, std::align_val_t{64});
        break;
      }
    }
  }
  for (void* p : slots) free(p);
  return nullptr;
}

// A short-lived thread: allocates and exits (thread exit with TLS state in use).
void* short_lived(void*) {
  for (int i = 0; i < 100; ++i) free(malloc(64 + i));
  return nullptr;
}

void fork_child_work() {
  // The child keeps working: allocate, free, make a thread.
  for (int i = 0; i < 1000; ++i) free(malloc(100 + i));
  pthread_t t;
  if (pthread_create(&t, nullptr, short_lived, nullptr) == 0) pthread_join(t, nullptr);
  _exit(0);
}

void dl_cycle() {
  void* h = dlopen(g_module, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    exit(3);
  }
  auto fn = reinterpret_cast<AllocFn>(dlsym(h, "dl_module_alloc"));
  for (int i = 0; i < 200 && fn != nullptr; ++i) free(fn(128));
  dlclose(h);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODULE_PATH [MILLISECONDS]\n", argv[0]);
    return 2;
  }
  g_module = argv[1];
  int ms = argc > 2 ? atoi(argv[2]) : 500;
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    pthread_create(&threads[i], nullptr, worker,
                   reinterpret_cast<void*>(static_cast<uintptr_t>(i + 1)));
  }
  for (int elapsed = 0; elapsed < ms; elapsed += 20) {
    pid_t pid = fork();
    if (pid == 0) fork_child_work();
    dl_cycle();
    pthread_t t;
    if (pthread_create(&t, nullptr, short_lived, nullptr) == 0) pthread_detach(t);
    int status = 0;
    if (pid > 0 &&
        (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
      fprintf(stderr, "stress_mix: fork child failed (status %d)\n", status);
      return 1;
    }
    usleep(20000);
  }
  // exit() while the workers still allocate: destructors and atexit handlers run under load.
  exit(0);
}
