// Thread patterns: threads parked forever on something that never comes.
//
//   hanging-thread  each request starts a detached thread that waits a day for an event that
//                   never fires. Fix: a pool of kPoolThreads threads made at startup and a
//                   bounded queue; each job waits at most kJobDeadline.
//   fanout          each request calls three backends in parallel (/ok, /slow, /hang), one
//                   detached thread per call, and answers once two have replied. Nothing has a
//                   deadline and nothing cancels the third call: its thread, its socket and its
//                   4 KiB receive buffer stay forever. Fix: joinable threads, a deadline
//                   (kFanoutDeadline), and shutdown(2) of the calls still running once two
//                   replied, so every thread ends, is joined, and every socket is closed.
//
// Threads get 64 KiB stacks (the default 8 MiB would reserve 24 GiB of address space at the cap)
// and their bodies do not call malloc, so glibc makes no new arena for them. The sockets and
// buffers of a fan-out are made by the request's thread, inside leak_fanout/fixed_fanout, so their
// creation stacks name the pattern.
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "examples/leaky-service/backend_client.h"
#include "examples/leaky-service/leaks.h"

namespace {

using namespace std::chrono_literals;

constexpr size_t kSmallStack = 64 * 1024;
constexpr int64_t kFanoutBuffer = 4096;
constexpr auto kFanoutDeadline = 500ms;
constexpr auto kJobDeadline = 2ms;
constexpr int kPoolThreads = 4;
constexpr size_t kPoolQueue = 64;

// Thread attributes: a small stack, detached or joinable. Each pattern calls pthread_create
// itself, so a thread's creation stack ends in the pattern's own function (a shared helper
// would be the innermost frame of our code for the leak and its fix alike).
class SmallStackAttr {
 public:
  explicit SmallStackAttr(bool detached) {
    pthread_attr_init(&attr_);
    pthread_attr_setstacksize(&attr_, kSmallStack);
    if (detached) pthread_attr_setdetachstate(&attr_, PTHREAD_CREATE_DETACHED);
  }
  SmallStackAttr(const SmallStackAttr&) = delete;
  SmallStackAttr& operator=(const SmallStackAttr&) = delete;
  ~SmallStackAttr() { pthread_attr_destroy(&attr_); }
  const pthread_attr_t* get() const { return &attr_; }

 private:
  pthread_attr_t attr_;
};

std::atomic<int64_t> g_hung_threads{0};

extern "C" void* hanging_thread_main(void*) {
  // Waits for an event that never comes; a day is forever at the scale of a test.
  struct timespec day = {86400, 0};
  while (nanosleep(&day, &day) != 0) {
  }
  g_hung_threads.fetch_sub(1);
  return nullptr;
}

// The fixed variant's pool: made once at startup, bounded queue, jobs with a deadline.
struct Job {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;  // guarded by mu
};
std::mutex g_pool_mu;
std::condition_variable g_pool_cv;
std::deque<Job*> g_pool_queue;  // guarded by g_pool_mu; at most kPoolQueue jobs

extern "C" void* pool_worker_main(void*) {
  for (;;) {
    Job* job;
    {
      std::unique_lock lock(g_pool_mu);
      g_pool_cv.wait(lock, [] { return !g_pool_queue.empty(); });
      job = g_pool_queue.front();
      g_pool_queue.pop_front();
    }
    g_pool_cv.notify_all();                     // room in the queue
    std::this_thread::sleep_for(kJobDeadline);  // waits for the event, but only this long
    std::lock_guard lock(job->mu);
    job->done = true;
    job->cv.notify_one();
  }
  return nullptr;
}

// One backend call of a fan-out. The caller (leak_fanout/fixed_fanout) opens the socket and the
// buffer; a detached call frees them itself when its backend answers (never, for /hang).
struct FanoutState {
  std::mutex mu;
  std::condition_variable cv;
  int replies = 0;  // guarded by mu; calls that ended (answered or failed)
};
struct FanoutCall {
  int fd = -1;
  const char* path = nullptr;
  std::unique_ptr<char[]> buffer;  // kFanoutBuffer bytes
  std::shared_ptr<FanoutState> state;
};
constexpr std::array<const char*, 3> kFanoutPaths = {"/ok", "/slow?ms=5", "/hang"};

// Sends the call's request, reads the answer (no deadline), and counts the call as ended.
void run_fanout_call(FanoutCall* call) {
  if (send_get(call->fd, call->path, /*close=*/true)) {
    read_until_close(call->fd, call->buffer.get(), kFanoutBuffer);
  }
  {
    std::lock_guard lock(call->state->mu);
    ++call->state->replies;
  }
  call->state->cv.notify_all();
}

// Thread entries, one per variant so that a thread's current stack tells them apart too.
extern "C" void* fanout_detached_call_main(void* arg) {  // owns its call
  auto* call = static_cast<FanoutCall*>(arg);
  run_fanout_call(call);
  ::close(call->fd);
  delete call;
  return nullptr;
}

extern "C" void* fanout_joined_call_main(void* arg) {  // the joiner owns the call
  run_fanout_call(static_cast<FanoutCall*>(arg));
  return nullptr;
}

std::atomic<int64_t> g_fanout_leaked{0};

}  // namespace

extern "C" int64_t leak_hanging_thread(void) {
  if (g_hung_threads.fetch_add(1) >= kCapThreads) {
    g_hung_threads.fetch_sub(1);
    return kCapReached;
  }
  SmallStackAttr attr(/*detached=*/true);
  pthread_t tid;
  if (pthread_create(&tid, attr.get(), hanging_thread_main, nullptr) != 0) {
    g_hung_threads.fetch_sub(1);
    return kFailed;
  }
  int64_t held = g_hung_threads.load();
  LEAKY_KEEP_FRAME();
  return held;
}

extern "C" int64_t fixed_hanging_thread(void) {
  Job job;
  {
    std::unique_lock lock(g_pool_mu);
    g_pool_cv.wait(lock, [] { return g_pool_queue.size() < kPoolQueue; });  // backpressure
    g_pool_queue.push_back(&job);
  }
  g_pool_cv.notify_all();
  std::unique_lock lock(job.mu);
  job.cv.wait(lock, [&] { return job.done; });
  LEAKY_KEEP_FRAME();
  return kPoolThreads;
}

extern "C" int64_t leak_fanout(void) {
  if (g_fanout_leaked.load() >= kCapThreads) return kCapReached;
  auto state = std::make_shared<FanoutState>();
  SmallStackAttr attr(/*detached=*/true);
  int started = 0;
  for (const char* path : kFanoutPaths) {
    int fd = connect_backend(::socket(AF_INET, kBackendSocketType, 0));
    auto* call = new FanoutCall{fd, path, std::make_unique<char[]>(kFanoutBuffer), state};
    pthread_t tid;
    if (fd < 0 || pthread_create(&tid, attr.get(), fanout_detached_call_main, call) != 0) {
      if (call->fd >= 0) ::close(call->fd);
      delete call;
      continue;
    }
    ++started;
  }
  if (started < 2) return kFailed;
  std::unique_lock lock(state->mu);
  state->cv.wait(lock, [&] { return state->replies >= 2; });  // no deadline, nothing cancelled
  int64_t held = g_fanout_leaked.fetch_add(1) + 1;            // /hang never replies
  LEAKY_KEEP_FRAME();
  return held;
}

extern "C" int64_t fixed_fanout(void) {
  auto state = std::make_shared<FanoutState>();
  SmallStackAttr attr(/*detached=*/false);
  std::vector<std::unique_ptr<FanoutCall>> calls;
  std::vector<pthread_t> threads;
  for (const char* path : kFanoutPaths) {
    int fd = connect_backend(::socket(AF_INET, kBackendSocketType, 0));
    auto call = std::make_unique<FanoutCall>(
        FanoutCall{fd, path, std::make_unique<char[]>(kFanoutBuffer), state});
    pthread_t tid;
    if (fd < 0 || pthread_create(&tid, attr.get(), fanout_joined_call_main, call.get()) != 0) {
      if (call->fd >= 0) ::close(call->fd);
      continue;
    }
    threads.push_back(tid);
    calls.push_back(std::move(call));
  }
  bool enough;
  {
    std::unique_lock lock(state->mu);
    enough = state->cv.wait_for(lock, kFanoutDeadline, [&] { return state->replies >= 2; });
  }
  for (auto& call : calls) ::shutdown(call->fd, SHUT_RDWR);  // cancel whatever still runs
  for (pthread_t tid : threads) pthread_join(tid, nullptr);
  for (auto& call : calls) ::close(call->fd);
  int64_t result = enough ? 0 : kFailed;
  LEAKY_KEEP_FRAME();
  return result;
}

void start_fixed_thread_pool() {
  SmallStackAttr attr(/*detached=*/true);
  for (int i = 0; i < kPoolThreads; ++i) {
    pthread_t tid;
    pthread_create(&tid, attr.get(), pool_worker_main, nullptr);
  }
}
