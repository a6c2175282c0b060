// A program with known thread and descriptor leaks, for the tracker integration tests.
//
// Driven by signals (the main thread waits in sigwaitinfo; every other thread blocks them):
//   SIGUSR1  leak:    3 threads from leak_thread_site_a (parked on a condition variable),
//                     5 threads from leak_thread_site_b (parked on a semaphore),
//                     1 joinable thread from leak_thread_site_zombie that exits at once and is
//                       not joined (state exited-unjoined), 1 detached thread that exits (gone),
//                     4 files from leak_file_site (a 5th is opened there and closed by a raw
//                       close syscall, which the agent must notice), 6 sockets connected from
//                       leak_socket_site to a loopback server (a forked child), 7 pipes from
//                       leak_pipe_site (14 descriptors), and 1 descriptor opened by a raw
//                       openat syscall (unknown origin).
//   SIGUSR2  release: wakes and joins every thread, closes every descriptor.
//   SIGTERM  quit.
// After each step it appends "leaked" / "released" to the status file (argv[1]), and first
// "ready <listener port>" once started. Site functions are extern "C" and exported (-rdynamic)
// so that the agent's dladdr-symbolized text pages show their names.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr int kThreadsA = 3;
constexpr int kThreadsB = 5;
constexpr int kFiles = 4;
constexpr int kSockets = 6;
constexpr int kPipes = 7;

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
bool g_release = false;
sem_t g_sem;

std::vector<pthread_t> g_threads;
std::vector<int> g_fds;
int g_raw_fd = -1;
int g_port = 0;
const char* g_status = nullptr;

void status(const std::string& line) {
  FILE* f = std::fopen(g_status, "a");
  if (f == nullptr) std::abort();
  std::fprintf(f, "%s\n", line.c_str());
  std::fclose(f);
}

void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

}  // namespace

extern "C" {

__attribute__((noinline)) void* thread_body_a(void*) {
  pthread_mutex_lock(&g_mu);
  while (!g_release) pthread_cond_wait(&g_cv, &g_mu);
  pthread_mutex_unlock(&g_mu);
  return nullptr;
}

__attribute__((noinline)) void* thread_body_b(void*) {
  sem_wait(&g_sem);
  return nullptr;
}

__attribute__((noinline)) void* thread_body_quick(void*) { return nullptr; }

__attribute__((noinline)) pthread_t leak_thread_site_a() {
  pthread_t t;
  if (pthread_create(&t, nullptr, thread_body_a, nullptr) != 0) die("pthread_create");
  return t;
}

__attribute__((noinline)) pthread_t leak_thread_site_b() {
  pthread_t t;
  if (pthread_create(&t, nullptr, thread_body_b, nullptr) != 0) die("pthread_create");
  return t;
}

__attribute__((noinline)) pthread_t leak_thread_site_zombie() {
  pthread_t t;
  if (pthread_create(&t, nullptr, thread_body_quick, nullptr) != 0) die("pthread_create");
  return t;
}

__attribute__((noinline)) void leak_thread_site_detached() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  if (pthread_create(&t, &attr, thread_body_quick, nullptr) != 0) die("pthread_create");
  pthread_attr_destroy(&attr);
}

__attribute__((noinline)) int leak_file_site() {
  int fd = open("/dev/null", O_RDONLY);
  if (fd < 0) die("open");
  return fd;
}

__attribute__((noinline)) int leak_socket_site() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(g_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) die("connect");
  return fd;
}

__attribute__((noinline)) void leak_pipe_site(int fds[2]) {
  if (pipe(fds) != 0) die("pipe");
}

}  // extern "C"

namespace {

void leak() {
  g_release = false;
  for (int i = 0; i < kThreadsA; ++i) g_threads.push_back(leak_thread_site_a());
  for (int i = 0; i < kThreadsB; ++i) g_threads.push_back(leak_thread_site_b());
  g_threads.push_back(leak_thread_site_zombie());
  leak_thread_site_detached();
  for (int i = 0; i < kFiles; ++i) g_fds.push_back(leak_file_site());
  for (int i = 0; i < kSockets; ++i) g_fds.push_back(leak_socket_site());
  for (int i = 0; i < kPipes; ++i) {
    int p[2];
    leak_pipe_site(p);
    g_fds.push_back(p[0]);
    g_fds.push_back(p[1]);
  }
  g_raw_fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/dev/zero", O_RDONLY));
  // Last, so that no later descriptor reuses its number: closed behind the agent's back.
  syscall(SYS_close, leak_file_site());
  usleep(100 * 1000);  // let the zombie and detached threads finish
}

void release() {
  pthread_mutex_lock(&g_mu);
  g_release = true;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  for (int i = 0; i < kThreadsB; ++i) sem_post(&g_sem);
  for (pthread_t t : g_threads) pthread_join(t, nullptr);
  g_threads.clear();
  for (int fd : g_fds) close(fd);
  g_fds.clear();
  if (g_raw_fd >= 0) syscall(SYS_close, g_raw_fd);
  g_raw_fd = -1;
}

// The loopback server: a child process that accepts and holds every connection.
void start_server() {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 64) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    die("listen");
  }
  g_port = ntohs(addr.sin_port);
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::vector<int> held;
    for (;;) {
      int c = accept(listener, nullptr, nullptr);
      if (c >= 0) held.push_back(c);
    }
  }
  close(listener);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: leaky_sites STATUS_FILE\n");
    return 2;
  }
  g_status = argv[1];
  sem_init(&g_sem, 0, 0);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started later
  start_server();
  status("ready " + std::to_string(g_port));
  for (;;) {
    int sig = sigwaitinfo(&set, nullptr);
    if (sig == SIGUSR1) {
      leak();
      status("leaked");
    } else if (sig == SIGUSR2) {
      release();
      status("released");
    } else if (sig == SIGTERM) {
      release();
      return 0;
    }
  }
}
