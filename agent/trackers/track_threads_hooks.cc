// The thread hooks: pthread_create wraps the start routine in a trampoline that books the new
// thread in the table; a pthread key destructor books its exit (it runs on return from the start
// routine, on pthread_exit and on cancellation alike); join, detach and cancel update the record.
//
// The creation stack is captured in the creating thread, before the real pthread_create, through
// the descriptor hooks' validated stack cache (track_fds_stack.cc), which unwinds with libgcc
// on a miss and falls back to the agent's capture_stack().
// One X-macro list declares the hooked functions: the threads group of the hook table
// (hook_table.h), resolved with dlsym(RTLD_NEXT) on first use.
// Threads the agent itself starts (in_agent() at creation: its server) are booked with
// kThreadAgent and never reported. Before threads_init(), and when the table is full, threads
// are created unwrapped and show as "[unknown origin]" (from /proc/self/task) when served.
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "agent/agent_api.h"
#include "agent/hooks/hook_table.h"
#include "agent/trackers/track_fds.h"
#include "agent/trackers/track_threads.h"

#define LEAKSCOPE_THREAD_EXPORT extern "C" __attribute__((visibility("default")))

// X(name, required)
#define LEAKSCOPE_THREAD_FUNCTIONS(X) \
  X(pthread_create, true)             \
  X(pthread_exit, true)               \
  X(pthread_join, true)               \
  X(pthread_tryjoin_np, false)        \
  X(pthread_timedjoin_np, false)      \
  X(pthread_clockjoin_np, false) X(pthread_detach, true) X(pthread_cancel, true)

namespace leakscope::agent {

namespace {

LEAKSCOPE_HOOK_GROUP(ThreadRealFunctions, LEAKSCOPE_THREAD_FUNCTIONS);

constinit LazyHookGroup<ThreadRealFunctions> g_thread_real("threads");
std::atomic<bool> g_threads_on{false};
pthread_key_t g_exit_key;

constinit ThreadRecord g_slots[kThreadTableCapacity];
constinit ThreadTable g_table(g_slots, kThreadTableCapacity);

// The calling thread's record (null for threads the agent did not start).
thread_local ThreadRecord* t_self __attribute__((tls_model("initial-exec"))) = nullptr;

inline const ThreadRealFunctions& real() { return g_thread_real.get(); }

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void on_thread_exit(void* record) {
  g_table.exited(static_cast<ThreadRecord*>(record));
  t_self = nullptr;
}

void* trampoline(void* record) {
  auto* r = static_cast<ThreadRecord*>(record);
  void* (*start)(void*) = r->start;
  void* arg = r->arg;
  g_table.started(r, static_cast<pid_t>(gettid()), static_cast<uint64_t>(pthread_self()));
  t_self = r;
  pthread_setspecific(g_exit_key, r);
  return start(arg);
}

uint32_t creation_flags(const pthread_attr_t* attr) {
  uint32_t flags = 0;
  int detach = PTHREAD_CREATE_JOINABLE;
  if (attr != nullptr && pthread_attr_getdetachstate(attr, &detach) == 0 &&
      detach == PTHREAD_CREATE_DETACHED) {
    flags |= kThreadDetached;
  }
  return flags;
}

}  // namespace

ThreadTable& thread_table() { return g_table; }

bool threads_tracking() { return g_threads_on.load(std::memory_order_acquire); }

int64_t thread_table_bytes() { return static_cast<int64_t>(sizeof(g_slots)); }

void threads_init() {
  if (!env_switch("LEAKSCOPE_THREADS", true)) return;
  real();
  if (pthread_key_create(&g_exit_key, on_thread_exit) != 0) {
    agent_log("cannot create a pthread key; threads are not tracked");
    return;
  }
  threads_register_routes();
  g_threads_on.store(true, std::memory_order_release);
}

void threads_after_fork_child() {
  g_table.after_fork_child(t_self, static_cast<pid_t>(gettid()),
                           static_cast<uint64_t>(pthread_self()));
  thread_signal_after_fork_child();
}

}  // namespace leakscope::agent

using namespace leakscope::agent;  // NOLINT: the hooks below are thin

LEAKSCOPE_THREAD_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                           void* (*start)(void*), void* arg) {
  auto create = real().pthread_create;
  if (create == nullptr) return ENOSYS;
  if (!g_threads_on.load(std::memory_order_acquire)) return create(thread, attr, start, arg);
  uint32_t flags = creation_flags(attr);
  uint32_t stack_id = 0;
  if (in_agent()) {
    flags |= kThreadAgent;
  } else {
    // The same validated per-thread stack cache as the descriptor hooks: a server that starts
    // a thread per connection creates them from one site over and over.
    stack_id = site_stack_id(
        reinterpret_cast<uintptr_t>(__builtin_extract_return_addr(__builtin_return_address(0))),
        reinterpret_cast<uintptr_t>(__builtin_dwarf_cfa()));
  }
  ThreadRecord* r = g_table.reserve(stack_id, flags, now_ns());
  if (r == nullptr) return create(thread, attr, start, arg);  // table full: counted, unwrapped
  r->start = start;
  r->arg = arg;
  int rc = create(thread, attr, trampoline, r);
  if (rc != 0) {
    g_table.unreserve(r);
    return rc;
  }
  g_table.publish(r, static_cast<uint64_t>(*thread));
  return rc;
}

LEAKSCOPE_THREAD_EXPORT void pthread_exit(void* value) {
  if (t_self != nullptr) g_table.set_flag(t_self, kThreadExiting);
  real().pthread_exit(value);
  __builtin_unreachable();
}

LEAKSCOPE_THREAD_EXPORT int pthread_join(pthread_t thread, void** value) {
  ThreadRecord* r = g_table.begin_join(static_cast<uint64_t>(thread));  // before: see begin_join
  int rc = real().pthread_join(thread, value);
  g_table.end_join(r, rc == 0);
  return rc;
}

LEAKSCOPE_THREAD_EXPORT int pthread_tryjoin_np(pthread_t thread, void** value) {
  auto fn = real().pthread_tryjoin_np;
  ThreadRecord* r = g_table.begin_join(static_cast<uint64_t>(thread));
  int rc = fn ? fn(thread, value) : ENOSYS;
  g_table.end_join(r, rc == 0);
  return rc;
}

LEAKSCOPE_THREAD_EXPORT int pthread_timedjoin_np(pthread_t thread, void** value,
                                                 const struct timespec* abstime) {
  auto fn = real().pthread_timedjoin_np;
  ThreadRecord* r = g_table.begin_join(static_cast<uint64_t>(thread));
  int rc = fn ? fn(thread, value, abstime) : ENOSYS;
  g_table.end_join(r, rc == 0);
  return rc;
}

LEAKSCOPE_THREAD_EXPORT int pthread_clockjoin_np(pthread_t thread, void** value, clockid_t clock,
                                                 const struct timespec* abstime) {
  auto fn = real().pthread_clockjoin_np;
  ThreadRecord* r = g_table.begin_join(static_cast<uint64_t>(thread));
  int rc = fn ? fn(thread, value, clock, abstime) : ENOSYS;
  g_table.end_join(r, rc == 0);
  return rc;
}

LEAKSCOPE_THREAD_EXPORT int pthread_detach(pthread_t thread) {
  // Booked before the real call (see begin_join); a detach that fails is a program error
  // (EINVAL, ESRCH: not a joinable thread), after which the record may be freed too early.
  g_table.detached(g_table.find(static_cast<uint64_t>(thread), true));
  return real().pthread_detach(thread);
}

LEAKSCOPE_THREAD_EXPORT int pthread_cancel(pthread_t thread) {
  int rc = real().pthread_cancel(thread);
  if (rc == 0) {
    if (ThreadRecord* r = g_table.find(static_cast<uint64_t>(thread))) {
      g_table.set_flag(r, kThreadCancelled);
    }
  }
  return rc;
}
