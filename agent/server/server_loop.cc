// The agent thread: one poll() loop over the listening socket, the wake pipe and the clients.
//
// The thread must never harm the host, nor be starved by a client (issue 18):
//   - Descriptors. Every descriptor it holds is registered in own_fds.h at a high number. At the
//     top of each turn it checks them: one the program closed (a close-all loop, closefrom,
//     dup2 over it) is forgotten without being touched, and the listener, the wake pipe and the
//     reserve are made again. A connection the program closed is dropped. POLLNVAL on any of
//     them counts as closed, so a descriptor gone by a raw system call cannot make poll spin.
//   - Exhaustion. When the program has used every descriptor, accept4 fails with EMFILE and the
//     pending connection keeps the listener readable: a level-triggered loop would spin. The
//     thread keeps one reserve descriptor (/dev/null); at EMFILE it gives the reserve back,
//     accepts one client with it (that client gets its answer, /healthz saying the process is
//     out of descriptors) and takes the reserve again later; when even that fails it stops
//     polling the listener for kAcceptPauseMs. /healthz and /metrics report the exhaustion.
//   - Slots. A client has kRequestDeadlineMs from accept to a complete request, then
//     kResponseDeadlineMs to read the answer. At most kMaxPending clients may be still sending;
//     a new client takes the place of the oldest of them (slow or silent clients cannot keep the
//     others out), and kLoopbackReserve of those places are kept for loopback clients. Only a
//     client whose request is complete (and, with a token, authenticated: others get a small
//     401) holds a place while a large answer is written; at kMaxConnections the newcomer gets
//     a 503.
//   - A client that half-closes after its request (shutdown(SHUT_WR)) still gets the answer.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "agent/own_fds.h"
#include "agent/server/http_request.h"
#include "agent/server/server_internal.h"

namespace leakscope::agent {

namespace {

constexpr int kMaxConnections = 32;
constexpr int kMaxPending = 16;
constexpr int kLoopbackReserve = 2;
constexpr int kAcceptBurst = 64;
constexpr int64_t kRequestDeadlineMs = 2000;
constexpr int64_t kResponseDeadlineMs = 10000;
constexpr int64_t kAcceptPauseMs = 250;
constexpr int64_t kExhaustedWindowMs = 10000;
constexpr int64_t kRetryMs = 1000;  // re-making a descriptor that could not be made

// Owned by the agent thread (and by server_start before it exists, the fork child after).
int g_listen_fd = -1;
sockaddr_storage g_bound{};
int g_wake_r = -1;
std::atomic<int> g_wake_w{-1};  // read by signal handlers and the close hooks (server_wake)
int g_reserve_fd = -1;
bool g_serving =
    false;  // the listener was opened once: re-make it when lost (never retry a refusal)
std::atomic<bool> g_dump_requested{false};

// Figures, written by the agent thread, read by /healthz and /metrics (the same thread).
int64_t g_emfile_total = 0;
int64_t g_last_emfile_ms = -1;
int64_t g_evicted_total = 0;
int64_t g_refused_total = 0;
int64_t g_timeouts_total = 0;

struct Connection {
  int fd = -1;
  int64_t accepted_ms = 0;
  int64_t deadline_ms = 0;
  bool loopback = false;
  bool responding = false;
  bool done = false;  // to be closed at the end of this turn
  std::string in;
  std::string out;
  size_t out_pos = 0;
};

int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// ---- the agent's own descriptors ---------------------------------------------------------

void note_lost() {
  static bool said = false;
  if (said) return;
  said = true;
  agent_log(
      "the program closed descriptors of the agent (a close-all loop?); the agent leaves those "
      "numbers alone and makes its own again at high numbers");
}

bool open_wake_pipe() {
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  g_wake_r = own_fd(p[0]);
  int w = own_fd(p[1]);
  if (g_wake_r < 0 || w < 0) {
    own_fd_close(g_wake_r);
    own_fd_close(w);
    g_wake_r = -1;
    return false;
  }
  g_wake_w.store(w, std::memory_order_release);
  return true;
}

void close_wake_pipe() {
  int w = g_wake_w.exchange(-1, std::memory_order_acq_rel);
  own_fd_close(w);
  own_fd_close(g_wake_r);
  g_wake_r = -1;
}

void open_reserve() {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  g_reserve_fd = own_fd(fd);
}

// Checks every descriptor the thread holds; forgets the lost ones and makes them again.
void check_own_descriptors(std::vector<Connection>& conns, int64_t now, int64_t& retry_at) {
  if (g_wake_r >= 0 && (!own_fd_ok(g_wake_r) || !own_fd_ok(g_wake_w.load()))) {
    note_lost();
    close_wake_pipe();
  }
  bool serving = g_serving;
  if (g_listen_fd >= 0 && !own_fd_ok(g_listen_fd)) {
    note_lost();
    own_fd_close(g_listen_fd);
    g_listen_fd = -1;
  }
  if (g_reserve_fd >= 0 && !own_fd_ok(g_reserve_fd)) {
    note_lost();
    own_fd_close(g_reserve_fd);
    g_reserve_fd = -1;
  }
  for (Connection& c : conns) {
    if (!own_fd_ok(c.fd)) c.done = true;  // own_fd_close then leaves the number alone
  }
  bool missing = g_wake_r < 0 || (serving && (g_listen_fd < 0 || g_reserve_fd < 0));
  if (!missing || now < retry_at) return;
  if (g_wake_r < 0) open_wake_pipe();
  if (serving && g_listen_fd < 0) g_listen_fd = open_listener(&g_bound, &g_bound, true);
  if (serving && g_reserve_fd < 0) open_reserve();
  retry_at = now + kRetryMs;
}

// ---- connections ---------------------------------------------------------------------------

void respond(Connection& c, const HttpResponse& res, bool head, int64_t now) {
  c.out = serialize_response(res);
  if (head) c.out.resize(c.out.find("\r\n\r\n") + 4);
  c.out_pos = 0;
  c.responding = true;
  c.deadline_ms = now + kResponseDeadlineMs;
}

void on_readable(Connection& c, int64_t now) {
  char buf[8192];
  bool peer_done = false;  // the client closed its side: what we have is all there is
  for (;;) {
    if (!own_fd_live(c.fd)) {  // closed under us meanwhile: the number is not ours to read
      c.done = true;
      return;
    }
    ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      if (c.in.size() > kMaxHeaderBytes + kMaxBodyBytes + 1024) break;
      continue;
    }
    if (n == 0) {
      peer_done = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) peer_done = true;
    break;
  }
  HttpRequest req;
  size_t consumed = 0;
  HttpResponse res;
  switch (parse_http_request(c.in, &req, &consumed)) {
    case ParseStatus::kIncomplete:
      if (peer_done) c.done = true;  // half a request, and no more to come
      return;
    case ParseStatus::kBad:
      error_response(res, 400, "leakscope: malformed request");
      break;
    case ParseStatus::kTooLarge:
      error_response(res, 413, "leakscope: request too large");
      break;
    case ParseStatus::kDone:
      handle_request(req, res);
      break;
  }
  c.in.clear();
  c.in.shrink_to_fit();
  respond(c, res, req.method == "HEAD", now);
}

// Returns false when the connection is finished.
bool on_writable(Connection& c) {
  while (c.out_pos < c.out.size()) {
    if (!own_fd_live(c.fd)) return false;  // closed under us: never write into the new owner's
    ssize_t n = send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
  return false;
}

void send_busy(int fd) {
  static const char kBusy[] =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  ssize_t ignored = send(fd, kBusy, sizeof(kBusy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
}

// Makes room for a new client among those still sending: the oldest pending one goes (the
// oldest remote one, for a remote newcomer when the remote ones use their share).
void make_room(std::vector<Connection>& conns, bool loopback) {
  int pending = 0, remote = 0;
  Connection *oldest = nullptr, *oldest_remote = nullptr;
  for (Connection& c : conns) {
    if (c.responding || c.done) continue;
    ++pending;
    if (oldest == nullptr || c.accepted_ms < oldest->accepted_ms) oldest = &c;
    if (c.loopback) continue;
    ++remote;
    if (oldest_remote == nullptr || c.accepted_ms < oldest_remote->accepted_ms) oldest_remote = &c;
  }
  Connection* victim = nullptr;
  if (!loopback && remote >= kMaxPending - kLoopbackReserve) victim = oldest_remote;
  if (victim == nullptr && pending >= kMaxPending) victim = oldest;
  if (victim == nullptr) return;
  victim->done = true;
  ++g_evicted_total;
}

void admit(std::vector<Connection>& conns, int fd, bool loopback, int64_t now) {
  if (fd < 0) return;
  make_room(conns, loopback);
  int live = 0;
  for (const Connection& c : conns) live += c.done ? 0 : 1;
  if (live >= kMaxConnections) {
    send_busy(fd);
    own_fd_close(fd);
    ++g_refused_total;
    return;
  }
  Connection c;
  c.fd = fd;
  c.loopback = loopback;
  c.accepted_ms = now;
  c.deadline_ms = now + kRequestDeadlineMs;
  conns.push_back(std::move(c));
  // Read at once: a request already there is answered before any newcomer can take its place,
  // and a client already gone frees its place now.
  on_readable(conns.back(), now);
}

int accept_one(bool* loopback) {
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  int fd =
      accept4(g_listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  *loopback = fd >= 0 && is_loopback(reinterpret_cast<sockaddr*>(&peer));
  return fd;
}

// At EMFILE: serve one client with the reserve descriptor; else pause the listener.
void on_exhausted(std::vector<Connection>& conns, int64_t now, int64_t& listen_paused_until) {
  ++g_emfile_total;
  g_last_emfile_ms = now;
  int fd = -1;
  bool loopback = false;
  if (g_reserve_fd >= 0) {
    own_fd_close(g_reserve_fd);
    g_reserve_fd = -1;  // check_own_descriptors takes it again within kRetryMs
    fd = accept_one(&loopback);
  }
  if (fd < 0) {
    listen_paused_until = now + kAcceptPauseMs;
    return;
  }
  admit(conns, own_fd(fd), loopback, now);
}

void accept_some(std::vector<Connection>& conns, int64_t now, int64_t& listen_paused_until) {
  for (int k = 0; k < kAcceptBurst; ++k) {
    bool loopback = false;
    int fd = accept_one(&loopback);
    if (fd >= 0) {
      admit(conns, own_fd(fd), loopback, now);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      on_exhausted(conns, now, listen_paused_until);
    } else if (errno != EAGAIN) {
      listen_paused_until = now + kAcceptPauseMs;  // any other error: never a level-triggered spin
    }
    return;
  }
}

void serve_connections(std::vector<Connection>& conns, const std::vector<pollfd>& fds, size_t first,
                       int64_t now) {
  for (size_t i = 0; i < conns.size(); ++i) {
    Connection& c = conns[i];
    short ev = first + i < fds.size() && fds[first + i].fd == c.fd ? fds[first + i].revents : 0;
    if (c.done) continue;
    if (ev & POLLNVAL) {  // closed under us by a raw system call: the number is not ours
      own_fds_closing(c.fd, c.fd);
      c.done = true;
      continue;
    }
    if (!c.responding && (ev & (POLLIN | POLLHUP | POLLERR))) on_readable(c, now);
    if (c.done) continue;
    if (now >= c.deadline_ms) {
      if (!c.responding) ++g_timeouts_total;
      c.done = true;
    } else if (c.responding && !on_writable(c)) {
      c.done = true;
    }
  }
}

void close_finished(std::vector<Connection>& conns) {
  size_t kept = 0;
  for (size_t i = 0; i < conns.size(); ++i) {
    if (conns[i].done) {
      own_fd_close(conns[i].fd);
    } else {
      if (kept != i) conns[kept] = std::move(conns[i]);  // never a self-move: it empties strings
      ++kept;
    }
  }
  conns.resize(kept);
}

void drain_wake_pipe() {
  char drain[64];
  while (own_fd_ok(g_wake_r) && read(g_wake_r, drain, sizeof(drain)) > 0) {
  }
}

void serve_loop(std::vector<Connection>& conns) {
  int64_t interval_ms = config().dump_interval_s * 1000;
  int64_t next_dump = interval_ms > 0 ? now_ms() + interval_ms : INT64_MAX;
  int64_t retry_at = 0, listen_paused_until = 0;
  for (;;) {
    int64_t now = now_ms();
    close_finished(conns);  // first: a reserve given to a client is free to be taken back
    check_own_descriptors(conns, now, retry_at);
    close_finished(conns);
    std::vector<pollfd> fds;
    fds.push_back({g_wake_r, POLLIN, 0});  // -1 (ignored by poll) while it cannot be made
    bool listening = g_listen_fd >= 0 && now >= listen_paused_until;
    fds.push_back({listening ? g_listen_fd : -1, POLLIN, 0});
    int64_t wake_at = next_dump;
    if (!listening && g_listen_fd >= 0) wake_at = std::min(wake_at, listen_paused_until);
    if (g_wake_r < 0 || g_listen_fd < 0 || g_reserve_fd < 0) wake_at = std::min(wake_at, retry_at);
    for (const Connection& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.responding ? POLLOUT : POLLIN), 0});
      wake_at = std::min(wake_at, c.deadline_ms);
    }
    int64_t timeout = wake_at == INT64_MAX ? -1 : (wake_at > now ? wake_at - now : 0);
    if (timeout > 60000 || timeout < 0) timeout = 60000;
    int rc = poll(fds.data(), fds.size(), static_cast<int>(timeout));
    if (rc < 0 && errno != EINTR && errno != ENOMEM) {
      agent_logf("the agent thread stops: poll failed (errno %d); the debug server is off", errno);
      break;
    }
    if (fds[0].revents & POLLIN) drain_wake_pipe();
    if (fds[0].revents & POLLNVAL) own_fds_closing(g_wake_r, g_wake_r);
    if (fds[1].revents & POLLNVAL) own_fds_closing(g_listen_fd, g_listen_fd);
    now = now_ms();
    if (g_dump_requested.exchange(false) || now >= next_dump) {
      write_dump_files();
      if (interval_ms > 0) next_dump = now_ms() + interval_ms;
      now = now_ms();
    }
    serve_connections(conns, fds, 2, now);
    if (listening && (fds[1].revents & POLLIN) && own_fd_ok(g_listen_fd)) {
      accept_some(conns, now, listen_paused_until);
    }
  }
}

void* agent_thread(void*) {
  ReentryGuard guard;             // for the thread's whole life: nothing it does is sampled
  AllocFailureThrows throws;      // a failed new throws the agent's bad_alloc, caught here
  std::vector<Connection> conns;  // outlives a failed round: its descriptors close by deadline
  for (;;) {
    try {
      serve_loop(conns);
      return nullptr;
    } catch (...) {
      static bool said = false;  // once: under lasting pressure every round may fail
      if (!said)
        agent_log("out of memory in the agent thread; the request in progress was dropped");
      said = true;
      timespec pause{0, 100 * 1000 * 1000};
      nanosleep(&pause, nullptr);
    }
  }
}

}  // namespace

void server_wake() {
  int w = g_wake_w.load(std::memory_order_acquire);
  if (w < 0) return;
  char b = 1;
  ssize_t ignored = write(w, &b, 1);
  (void)ignored;
}

void agent_request_dump() {
  g_dump_requested.store(true);
  server_wake();
}

ServerFigures server_figures() {
  ServerFigures f;
  f.accept_emfile_total = g_emfile_total;
  if (g_last_emfile_ms >= 0) {
    f.last_emfile_age_ms = now_ms() - g_last_emfile_ms;
    f.fds_exhausted = f.last_emfile_age_ms < kExhaustedWindowMs;
  }
  f.evicted_total = g_evicted_total;
  f.refused_total = g_refused_total;
  f.request_timeouts_total = g_timeouts_total;
  f.own_fds_lost_total = own_fds_lost_total();
  f.dump_failures_total = dump_failures_total();
  return f;
}

bool server_loop_start(bool serve) {
  if (serve) g_listen_fd = open_listener(&g_bound, nullptr, false);
  g_serving = g_listen_fd >= 0;
  if (g_listen_fd < 0 && config().dump_dir[0] == '\0') return false;
  if (g_listen_fd >= 0) open_reserve();
  if (!open_wake_pipe()) return false;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the thread inherits "everything blocked"
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  bool started = pthread_create(&thread, &attr, agent_thread, nullptr) == 0;
  if (started) {
    pthread_setname_np(thread, "leakscope");
  } else {
    agent_log("cannot start the agent thread; the debug server is off");
  }
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return started;
}

void server_after_fork_child() {
  // The agent thread does not exist in the child. The child keeps sampling into its own copy
  // of the books, but serves nothing: it must not answer on (or hold) the parent's port. Only
  // descriptors still the agent's are closed: a number the program closed and reused is its own.
  g_wake_w.store(-1, std::memory_order_release);
  own_fds_close_all();
  g_listen_fd = g_wake_r = g_reserve_fd = -1;
  g_serving = false;
}

}  // namespace leakscope::agent
