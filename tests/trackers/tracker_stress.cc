// Stress for the thread and descriptor hooks: every hooked call, from many threads at once,
// while the test scrapes the profiles (including ?debug=2, which signals every thread).
//
//   tracker_stress STATUS_FILE THREADS ROUNDS
//
// THREADS workers each run ROUNDS rounds of: create and join a thread, create a detached one,
// create one that calls pthread_exit, one that is cancelled; open/openat/creat/fopen/fdopen/
// fclose (freopen once, before the workers), socket/socketpair/accept4 on a private listener,
// pipe/pipe2, dup/dup2/dup3, fcntl(F_DUPFD/F_DUPFD_CLOEXEC/F_SETFD), eventfd, timerfd, signalfd,
// epoll_create/1, inotify_init/1, memfd_create, close_range; and a fork whose child opens, closes
// and _exits. Everything is closed and joined before the round ends. Appends "done" to STATUS_FILE,
// then waits for SIGTERM: the profiles must then hold no descriptor or thread from a stress_ site.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

std::atomic<int> g_errors{0};

void check(bool ok, const char* what) {
  if (!ok) {
    std::perror(what);
    ++g_errors;
  }
}

void* quick(void*) { return nullptr; }
void* exits(void*) { pthread_exit(nullptr); }
void* parks(void*) {
  for (;;) pause();  // a cancellation point
  return nullptr;
}

}  // namespace

extern "C" {

__attribute__((noinline)) void stress_threads() {
  pthread_t t;
  check(pthread_create(&t, nullptr, quick, nullptr) == 0, "create");
  check(pthread_join(t, nullptr) == 0, "join");
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  check(pthread_create(&t, &attr, quick, nullptr) == 0, "create detached");
  pthread_attr_destroy(&attr);
  check(pthread_create(&t, nullptr, quick, nullptr) == 0, "create");
  check(pthread_detach(t) == 0, "detach");
  check(pthread_create(&t, nullptr, exits, nullptr) == 0, "create exits");
  check(pthread_join(t, nullptr) == 0, "join exits");
  check(pthread_create(&t, nullptr, parks, nullptr) == 0, "create parks");
  check(pthread_cancel(t) == 0, "cancel");
  check(pthread_join(t, nullptr) == 0, "join cancelled");
}

// freopen() closes the stream's descriptor and dup3()s the new one onto its number: another
// thread that opens in between gets that number and has it clobbered (glibc's freopen is not
// safe against concurrent opens). So it runs once, before the workers start.
__attribute__((noinline)) void stress_freopen(const char* dir) {
  char path[256];
  std::snprintf(path, sizeof(path), "%s/freopen", dir);
  FILE* s = std::fopen(path, "w");
  check(s != nullptr, "fopen");
  s = std::freopen(path, "re", s);
  check(s != nullptr, "freopen");
  check(std::fclose(s) == 0, "fclose");
  unlink(path);
}

// Worker `index` dup3()s onto its own number, 300 + index: the kernel hands out the lowest free
// number, so nobody else is given it while a few dozen descriptors are open.
__attribute__((noinline)) void stress_files(const char* dir, int index) {
  char path[256];
  std::snprintf(path, sizeof(path), "%s/f.%ld", dir, static_cast<long>(gettid()));
  int a = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  int b = openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  int c = creat(path, 0600);
  check(a >= 0 && b >= 0 && c >= 0, "open");
  int d = dup(a);
  int e = dup3(b, 300 + index, O_CLOEXEC);
  check(dup2(c, e) == e, "dup2");
  int f = fcntl(a, F_DUPFD, 200);
  int g = fcntl(a, F_DUPFD_CLOEXEC, 0);
  check(fcntl(g, F_SETFD, 0) == 0, "F_SETFD");
  for (int fd : {a, b, c, d, e, f, g}) check(close(fd) == 0, "close");
  FILE* s = std::fopen(path, "re");
  check(s != nullptr && std::fclose(s) == 0, "fopen");
  int h = open(path, O_RDONLY);
  FILE* t = fdopen(h, "r");
  check(t != nullptr && std::fclose(t) == 0, "fdopen");
  unlink(path);
}

__attribute__((noinline)) void stress_sockets() {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  check(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
            listen(listener, 4) == 0 &&
            getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0,
        "listen");
  int client = socket(AF_INET, SOCK_STREAM, 0);
  check(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0, "connect");
  int served = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  check(served >= 0, "accept4");
  int pair[2];
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0, "socketpair");
  for (int fd : {listener, client, served, pair[0], pair[1]}) check(close(fd) == 0, "close");
}

__attribute__((noinline)) void stress_anon() {
  int p[2], q[2];
  check(pipe(p) == 0 && pipe2(q, O_CLOEXEC) == 0, "pipe");
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  int fds[] = {p[0],
               p[1],
               q[0],
               q[1],
               eventfd(0, 0),
               timerfd_create(CLOCK_MONOTONIC, 0),
               signalfd(-1, &mask, 0),
               epoll_create(1),
               epoll_create1(EPOLL_CLOEXEC),
               inotify_init(),
               inotify_init1(IN_CLOEXEC),
               memfd_create("stress", 0)};
  for (int fd : fds) check(fd >= 0, "anon fd");
  for (int fd : fds) check(close(fd) == 0, "close");
}

__attribute__((noinline)) void stress_close_range(const char* dir) {
  // Descriptors dup'ed to a private high range (one worker only), then closed in one call.
  constexpr int base = 600;
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < 10; ++i) check(dup2(fd, base + i) == base + i, "dup2 high");
  check(close_range(base, base + 4, CLOSE_RANGE_CLOEXEC) == 0, "close_range cloexec");
  check(close_range(base, base + 9, 0) == 0, "close_range");
  check(close(fd) == 0, "close");
}

__attribute__((noinline)) void stress_fork() {
  pid_t child = fork();
  if (child == 0) {
    int fd = open("/dev/null", O_RDONLY);
    pthread_t t;
    pthread_create(&t, nullptr, quick, nullptr);
    pthread_join(t, nullptr);
    close(fd);
    _exit(0);
  }
  int status = 0;
  check(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0,
        "fork child");
}

}  // extern "C"

namespace {

struct Args {
  const char* dir;
  int rounds;
  int index;
};

void* worker(void* p) {
  auto* a = static_cast<Args*>(p);
  for (int r = 0; r < a->rounds; ++r) {
    stress_threads();
    stress_files(a->dir, a->index);
    stress_sockets();
    stress_anon();
    if (a->index == 0) stress_close_range(a->dir);
    if (a->index == 1 && r % 10 == 0) stress_fork();
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: tracker_stress STATUS_FILE THREADS ROUNDS\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int threads = std::atoi(argv[2]);
  int rounds = std::atoi(argv[3]);
  char dir[] = "/tmp/tracker_stress.XXXXXX";
  if (mkdtemp(dir) == nullptr) return 1;
  stress_freopen(dir);
  std::vector<pthread_t> pool(threads);
  std::vector<Args> args(threads);
  for (int i = 0; i < threads; ++i) {
    args[i] = Args{dir, rounds, i};
    pthread_create(&pool[i], nullptr, worker, &args[i]);
  }
  for (pthread_t t : pool) pthread_join(t, nullptr);
  rmdir(dir);
  FILE* f = std::fopen(argv[1], "a");
  std::fprintf(f, g_errors == 0 ? "done\n" : "errors\n");
  std::fclose(f);
  sigdelset(&set, SIGUSR1);
  int sig = 0;
  sigwait(&set, &sig);
  return g_errors == 0 ? 0 : 1;
}
