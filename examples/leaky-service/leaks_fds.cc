// Descriptor patterns: files and sockets opened per request and never closed.
//
//   open-file     reads 16 random bytes for a request id from /dev/urandom and forgets close(2).
//                 Fix: the descriptor is owned by a UniqueFd, closed on every path out.
//   call-backend  sends a keep-alive GET to the backend and returns without reading the response
//                 or closing the socket: one connection (and its descriptor) per request, forever.
//                 Fix: a pool of kClientPool keep-alive clients (cpp-httplib) with connect and
//                 read timeouts, connected at startup; each call reads the whole response (drain)
//                 and gives the client back, and a client whose call failed closes its socket.
#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "examples/leaky-service/backend_client.h"
#include "examples/leaky-service/leaks.h"

namespace {

constexpr const char* kRandomPath = "/dev/urandom";
constexpr size_t kClientPool = 8;

// Owns a descriptor; closes it when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::atomic<int64_t> g_leaked_files{0};
std::atomic<int64_t> g_leaked_connections{0};

// Fixed variant: a bounded set of keep-alive clients. acquire() waits while all are in use.
std::mutex g_pool_mu;
std::condition_variable g_pool_cv;
std::vector<std::unique_ptr<httplib::Client>> g_idle_clients;  // guarded by g_pool_mu

std::unique_ptr<httplib::Client> make_client() {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", backend_port());
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(1, 0);
  client->set_read_timeout(2, 0);
  client->set_write_timeout(2, 0);
  return client;
}

std::unique_ptr<httplib::Client> acquire_client() {
  std::unique_lock lock(g_pool_mu);
  g_pool_cv.wait(lock, [] { return !g_idle_clients.empty(); });
  auto client = std::move(g_idle_clients.back());
  g_idle_clients.pop_back();
  return client;
}

void release_client(std::unique_ptr<httplib::Client> client) {
  {
    std::lock_guard lock(g_pool_mu);
    g_idle_clients.push_back(std::move(client));
  }
  g_pool_cv.notify_one();
}

}  // namespace

extern "C" int64_t leak_open_file(void) {
  if (g_leaked_files.load() >= kCapFds) return kCapReached;
  int fd = ::open(kRandomPath, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return kFailed;
  int64_t request_id = 0;
  if (::read(fd, &request_id, sizeof request_id) < 0) return kFailed;  // and fd stays open
  int64_t held = g_leaked_files.fetch_add(1) + 1;                      // no close(fd)
  LEAKY_KEEP_FRAME();
  return held;
}

extern "C" int64_t fixed_open_file(void) {
  UniqueFd fd(::open(kRandomPath, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return kFailed;
  int64_t request_id = 0;
  if (::read(fd.get(), &request_id, sizeof request_id) < 0) return kFailed;  // closed anyway
  LEAKY_KEEP_FRAME();
  return 0;
}

extern "C" int64_t leak_call_backend(void) {
  if (g_leaked_connections.load() >= kCapFds) return kCapReached;
  int fd = connect_backend(::socket(AF_INET, kBackendSocketType, 0));
  if (fd < 0) return kFailed;
  if (!send_get(fd, "/ok", /*close=*/false)) return kFailed;
  // The response is neither read nor closed: the connection stays, with its descriptor.
  int64_t held = g_leaked_connections.fetch_add(1) + 1;
  LEAKY_KEEP_FRAME();
  return held;
}

extern "C" int64_t fixed_call_backend(void) {
  auto client = acquire_client();
  auto res = client->Get("/ok");  // reads the whole body; keeps the connection for reuse
  bool ok = res && res->status == 200;
  release_client(std::move(client));
  LEAKY_KEEP_FRAME();
  return ok ? static_cast<int64_t>(kClientPool) : kFailed;
}

void start_fixed_client_pool() {
  std::lock_guard lock(g_pool_mu);
  for (size_t i = 0; i < kClientPool; ++i) {
    auto client = make_client();
    client->Get("/ok");  // connects now, so the pool's sockets are part of the idle baseline
    g_idle_clients.push_back(std::move(client));
  }
}
