// A host whose threads sit in blocking calls that a signal interrupts for good (nanosleep,
// usleep, poll and epoll_wait with a timeout, select) and one that SA_RESTART restarts (read on
// a pipe), each counting the EINTRs it gets. Built by tests/integration/agent_debug2_no_eintr.sh
// with `g++ -O2 -g -pthread -rdynamic` (-rdynamic only so that the agent's dladdr names the
// park_* functions in ?debug=2). Each timeout is 60 s, longer than the test, so a thread is
// always blocked while the test reads its stack. SIGUSR1 prints "eintr N" with every thread's
// count (and the count per call); SIGTERM ends the program.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>

namespace {

enum { kNanosleep, kUsleep, kPoll, kEpoll, kSelect, kRead, kCalls };
const char* const kNames[kCalls] = {"nanosleep", "usleep", "poll", "epoll_wait", "select", "read"};
std::atomic<long> g_eintr[kCalls];
int g_pipe[2];

void count(int call, long r) {
  if (r < 0 && errno == EINTR) g_eintr[call].fetch_add(1);
}

}  // namespace

extern "C" __attribute__((noipa)) void park_nanosleep() {
  for (;;) {
    timespec ts{60, 0};
    count(kNanosleep, nanosleep(&ts, nullptr));
  }
}
extern "C" __attribute__((noipa)) void park_usleep() {
  for (;;) count(kUsleep, usleep(60 * 1000 * 1000 - 1));
}
extern "C" __attribute__((noipa)) void park_poll() {
  for (;;) {
    pollfd p{g_pipe[0], POLLIN, 0};
    count(kPoll, poll(&p, 1, 60 * 1000));
  }
}
extern "C" __attribute__((noipa)) void park_epoll() {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  epoll_ctl(ep, EPOLL_CTL_ADD, g_pipe[0], &ev);
  for (;;) count(kEpoll, epoll_wait(ep, &ev, 1, 60 * 1000));
}
extern "C" __attribute__((noipa)) void park_select() {
  for (;;) {
    timeval tv{60, 0};
    count(kSelect, select(0, nullptr, nullptr, nullptr, &tv));
  }
}
extern "C" __attribute__((noipa)) void park_read() {
  char c;
  for (;;) count(kRead, read(g_pipe[0], &c, 1));
}

namespace {

void* run(void* fn) {
  reinterpret_cast<void (*)()>(fn)();
  return nullptr;
}

void print_counts() {
  long total = 0;
  for (auto& n : g_eintr) total += n.load();
  std::printf("eintr %ld", total);
  for (int i = 0; i < kCalls; ++i) std::printf(" %s=%ld", kNames[i], g_eintr[i].load());
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main() {
  if (pipe(g_pipe) != 0) return 1;
  sigset_t set;  // blocked in every thread; main takes them with sigwait
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  void (*parks[])() = {park_nanosleep, park_usleep, park_poll, park_epoll, park_select, park_read};
  for (auto fn : parks) {
    pthread_t t;
    if (pthread_create(&t, nullptr, run, reinterpret_cast<void*>(fn)) != 0) return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    print_counts();
    if (sig == SIGTERM) return 0;
  }
}
