// The current stack of another thread, captured on demand: read from outside when the thread
// is blocked in a system call (track_threads_blocked.cc: a signal would make its nanosleep, poll,
// epoll_wait... return EINTR), else by a signal to it, below.
//
// Only the server thread asks, one thread at a time. It publishes a request (a sequence number
// and state kWaiting), sends a real-time signal to the target with rt_tgsigqueueinfo carrying
// that number, and polls for the answer for at most a timeout. The handler, in the target, checks
// that the signal is ours (SI_QUEUE from this process) and is for the current request, unwinds
// into a buffer on its own stack, then claims the request (CAS kWaiting -> kWriting), copies,
// and marks it kDone. A server that gave up first claims it back (kWaiting -> kIdle); a
// handler that arrives late then finds nothing to answer. So a thread that cannot run (stopped,
// in uninterruptible sleep, blocking the signal) costs the page a timeout, never a hang, and a
// late answer never writes into a later request.
//
// The captured stack starts inside the handler; it is cut at the interrupted pc taken from the
// ucontext, so frame 0 is where the thread was (a futex wait, an accept, a read...).
//
// Host safety: the handler is installed on first use and only if the host left the signal at
// SIG_DFL; before each request the disposition is checked again (a host that installed its own
// handler later keeps it: the page says why the stack is missing). Threads that block the signal
// (SigBlk in /proc/self/task/N/status) are not signalled. A thread blocked in a system call is
// not signalled either (see above), so the signal reaches running threads, which are in no call
// to interrupt; only a thread that enters a blocking call between the check and the signal gets
// an EINTR (calls that never restart: epoll_wait, nanosleep...), which well-behaved code
// retries. LEAKSCOPE_THREAD_SIGNAL picks the signal (default SIGRTMAX - 3; 0 disables it).
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "agent/agent_api.h"
#include "agent/trackers/track_fds.h"
#include "agent/trackers/track_threads.h"
#include "agent/trackers/track_threads_blocked.h"

namespace leakscope::agent {

namespace {

enum : int { kIdle = 0, kWaiting, kWriting, kDone };

// What a handler could not do, for the page (capture_thread_stack's *why).
enum : int { kWhole = 0, kInUnwinder, kUnwinderBusy, kInAgent };

struct StackRequest {
  std::atomic<uint64_t> seq{0};
  std::atomic<int> state{kIdle};
  int n = 0;
  int note = kWhole;
  uintptr_t pcs[kMaxFrames] = {};
};

constinit StackRequest g_request;
uint64_t g_next_seq = 0;  // server thread only
int g_signal = -1;        // -1: not decided yet; 0: disabled
bool g_installed = false;

void on_stack_signal(int, siginfo_t* info, void* context) {
  if (info->si_code != SI_QUEUE || info->si_pid != getpid()) return;
  auto seq = reinterpret_cast<uint64_t>(info->si_value.sival_ptr);
  if (g_request.seq.load(std::memory_order_acquire) != seq) return;
  int saved_errno = errno;
  uintptr_t pcs[kMaxFrames];
  int n = 0;
  int note = kWhole;
  auto* uc = static_cast<ucontext_t*>(context);
  auto rip = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RIP]);
  if (in_unwinder()) {
    // Inside libgcc's frame registry, perhaps holding its object_mutex (unwind_hooks.cc):
    // unwinding would deadlock this thread. The pc alone.
    pcs[0] = rip;
    n = 1;
    note = kInUnwinder;
  } else if (in_agent()) {  // inside the agent (e.g. mid-unwind): do not unwind again
    note = kInAgent;
  } else {
    ReentryGuard guard;
    UnwindTryOnly try_only;  // never wait for another thread's object_mutex with signals masked
    if (try_only.gave_up()) {
      note = kUnwinderBusy;  // n stays 0: the pc alone, below
    } else {
      n = capture_stack(pcs, kMaxFrames, 0);
    }
    int cut = -1;
    for (int i = 0; i < n; ++i) {
      if (pcs[i] == rip) {
        cut = i;
        break;
      }
    }
    if (cut < 0) {  // the unwinder did not cross the signal frame: report the pc alone
      pcs[0] = rip;
      n = 1;
    } else {
      n -= cut;
      std::memmove(pcs, pcs + cut, n * sizeof(uintptr_t));
    }
  }
  int expected = kWaiting;
  if (g_request.state.compare_exchange_strong(expected, kWriting, std::memory_order_acq_rel)) {
    if (g_request.seq.load(std::memory_order_acquire) != seq) {
      // A late answer to an abandoned request won the race against a new one: give it back.
      g_request.state.store(kWaiting, std::memory_order_release);
    } else {
      std::memcpy(g_request.pcs, pcs, n * sizeof(uintptr_t));
      g_request.n = n;
      g_request.note = note;
      g_request.state.store(kDone, std::memory_order_release);
    }
  }
  errno = saved_errno;
}

// LEAKSCOPE_THREAD_SIGNAL: a number, "RTMIN+N" or "RTMAX-N" (with or without "SIG"), or 0.
int chosen_signal() {
  if (g_signal >= 0) return g_signal;
  g_signal = SIGRTMAX - 3;
  const char* v = getenv("LEAKSCOPE_THREAD_SIGNAL");
  if (v == nullptr || *v == '\0') return g_signal;
  if (std::strncmp(v, "SIG", 3) == 0) v += 3;
  int s = -1;
  if (std::strncmp(v, "RTMIN+", 6) == 0) {
    s = SIGRTMIN + std::atoi(v + 6);
  } else if (std::strncmp(v, "RTMAX-", 6) == 0) {
    s = SIGRTMAX - std::atoi(v + 6);
  } else if (*v >= '0' && *v <= '9') {
    s = std::atoi(v);
  }
  if (s == 0 || (s >= SIGRTMIN && s <= SIGRTMAX)) {
    g_signal = s;
  } else {
    agent_log("LEAKSCOPE_THREAD_SIGNAL must be 0 or a real-time signal; using SIGRTMAX-3");
  }
  return g_signal;
}

// Installs the handler once if the signal is unused; true if our handler is in place now.
bool ensure_handler(int sig, const char** why) {
  struct sigaction current {};
  if (sigaction(sig, nullptr, &current) != 0) {
    *why = "cannot query the capture signal";
    return false;
  }
  bool ours = (current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_stack_signal;
  if (ours) return true;
  if (g_installed || current.sa_handler != SIG_DFL) {
    *why = "the host handles the capture signal itself (set LEAKSCOPE_THREAD_SIGNAL)";
    return false;
  }
  struct sigaction action {};
  action.sa_sigaction = on_stack_signal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&action.sa_mask);
  if (sigaction(sig, &action, nullptr) != 0) {
    *why = "cannot install the capture signal handler";
    return false;
  }
  g_installed = true;
  return true;
}

bool blocks_signal(pid_t tid, int sig) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/status", static_cast<int>(tid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  uint64_t mask = 0;
  return parse_sig_blocked(buf, &mask) && (mask & (1ull << (sig - 1))) != 0;
}

void sleep_us(long us) {
  timespec ts{0, us * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace

int capture_thread_stack(pid_t tid, uintptr_t* pcs, int max, int timeout_ms, const char** why) {
  // A thread blocked in a system call is read from outside: a signal would interrupt its call.
  int blocked = blocked_thread_stack(tid, pcs, max, why);
  if (blocked >= 0) return blocked;
  int sig = chosen_signal();
  if (sig == 0) {
    *why =
        "not blocked in a system call, and the capture signal is off (LEAKSCOPE_THREAD_SIGNAL=0)";
    return 0;
  }
  if (!ensure_handler(sig, why)) return 0;
  if (blocks_signal(tid, sig)) {
    *why = "the thread blocks the capture signal";
    return 0;
  }
  uint64_t seq = ++g_next_seq;
  g_request.n = 0;
  g_request.note = kWhole;
  g_request.seq.store(seq, std::memory_order_release);  // before kWaiting: see the handler
  g_request.state.store(kWaiting, std::memory_order_release);
  siginfo_t info{};
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_ptr = reinterpret_cast<void*>(seq);
  if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, sig, &info) != 0) {
    g_request.state.store(kIdle, std::memory_order_relaxed);
    *why = "the thread is gone";
    return 0;
  }
  constexpr long kPollUs = 200;
  for (long waited = 0; waited < timeout_ms * 1000L; waited += kPollUs) {
    if (g_request.state.load(std::memory_order_acquire) == kDone) break;
    sleep_us(kPollUs);
  }
  for (;;) {
    int state = g_request.state.load(std::memory_order_acquire);
    if (state == kDone) break;
    if (state == kWaiting) {
      if (g_request.state.compare_exchange_strong(state, kIdle, std::memory_order_acq_rel)) {
        *why = "no answer in time (the thread cannot run: stopped, or in uninterruptible sleep)";
        return 0;
      }
      continue;
    }
    sleep_us(10);  // kWriting: a handler is copying, for a few hundred nanoseconds
  }
  int n = g_request.n < max ? g_request.n : max;
  std::memcpy(pcs, g_request.pcs, n * sizeof(uintptr_t));
  int note = g_request.note;
  g_request.state.store(kIdle, std::memory_order_release);
  switch (note) {
    case kInUnwinder:
      *why = "the thread is inside the unwinder's frame registry: its pc alone";
      break;
    case kUnwinderBusy:
      *why =
          "another thread was inside the unwinder's frame registry (or sampling is off while "
          "frames are registered): its pc alone";
      break;
    case kInAgent:
      *why = "the thread was inside the agent";
      break;
    default:
      *why = n == 0 ? "the thread was inside the agent" : nullptr;
  }
  return n;
}

void thread_signal_after_fork_child() {
  g_request.state.store(kIdle, std::memory_order_relaxed);
  g_request.seq.store(0, std::memory_order_relaxed);
}

}  // namespace leakscope::agent
