// The debug server: one agent thread, poll()-based, serving /debug/pprof/ like Go's
// net/http/pprof so that pprof, go tool pprof, Parca and Pyroscope can scrape the agent.
//
// Never blocks the host: the thread is the agent's own (all signals blocked, ReentryGuard held
// for its whole life so its allocations are never sampled), sockets are non-blocking, at most
// kMaxConnections clients at once (more are accepted and closed), and each connection has
// kConnectionDeadlineMs to send its request and read the answer; a slow or malformed client
// only ever costs its own connection. The same thread writes dumps (LEAKSCOPE_DUMP_DIR) on an
// interval or when a signal handler pokes the wake pipe.
//
// Security: heap profiles reveal a process's internals. Loopback only, unless LEAKSCOPE_TOKEN is
// set; with a token every request needs "Authorization: Bearer <token>" (else 401).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "agent/agent_internal.h"
#include "agent/http_request.h"

namespace leakscope::agent {

namespace {

constexpr int kMaxConnections = 16;
constexpr int kMaxRoutes = 64;
constexpr int64_t kConnectionDeadlineMs = 10000;

struct Route {
  const char* path;
  const char* description;
  RouteHandler handler;
};

Route g_routes[kMaxRoutes];
std::atomic<int> g_route_count{0};

int g_listen_fd = -1;
int g_wake[2] = {-1, -1};  // signal handlers write a byte to wake the agent thread
std::atomic<bool> g_dump_requested{false};
std::atomic<bool> g_thread_running{false};

struct Connection {
  int fd = -1;
  int64_t deadline_ms = 0;
  std::string in;
  std::string out;
  size_t out_pos = 0;
  bool responding = false;
};

int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

const char* status_text(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string serialize(const HttpResponse& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + status_text(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "X-Content-Type-Options: nosniff\r\nConnection: close\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

// Constant-time comparison, so a client cannot learn the token byte by byte.
bool token_matches(const std::string& given, const char* expected) {
  size_t n = strlen(expected);
  unsigned char diff = given.size() == n ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return diff == 0;
}

void error_response(HttpResponse& res, int status, const std::string& message) {
  res.status = status;
  res.content_type = "text/plain; charset=utf-8";
  res.body = message + "\n";
  res.headers.emplace_back("X-Go-Pprof", "1");  // pprof then prints the body in its error
}

void handle(const HttpRequest& req, HttpResponse& res) {
  const char* token = config().token;
  if (token[0] != '\0') {
    std::string auth = req.header("authorization");
    if (auth.compare(0, 7, "Bearer ") != 0 || !token_matches(auth.substr(7), token)) {
      error_response(res, 401, "leakscope: missing or wrong Authorization: Bearer token");
      res.headers.emplace_back("WWW-Authenticate", "Bearer");
      return;
    }
  }
  if (req.method != "GET" && req.method != "POST" && req.method != "HEAD") {
    error_response(res, 405, "leakscope: method not allowed");
    return;
  }
  std::string path = req.path;
  if (path == "/debug/pprof") path = "/debug/pprof/";
  int n = g_route_count.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    if (path == g_routes[i].path) {
      try {  // out of memory (the agent's own bad_alloc, AllocFailureThrows): this request fails
        g_routes[i].handler(req, res);
      } catch (...) {
        res = HttpResponse{};
        error_response(res, 503, "leakscope: out of memory in the agent; try again");
      }
      return;
    }
  }
  error_response(res, 404, "leakscope: unknown path " + req.path);
}

void index_route(const HttpRequest&, HttpResponse& res) {
  res.content_type = "text/html; charset=utf-8";
  std::string body =
      "<html><head><title>/debug/pprof/</title></head><body>\n"
      "<p>leakscope agent: profiles of this process. Use them with "
      "<code>go tool pprof http://HOST/debug/pprof/heap</code>.</p>\n"
      "<table><thead><tr><th>Profile</th><th>Description</th></tr></thead>\n";
  int n = g_route_count.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    std::string path = g_routes[i].path;
    if (path == "/debug/pprof/") continue;
    std::string name = path.rfind("/debug/pprof/", 0) == 0 ? path.substr(13) : path;
    body += "<tr><td><a href=\"" + path + "\">" + name + "</a></td><td>" + g_routes[i].description +
            "</td></tr>\n";
  }
  body += "</table></body></html>\n";
  res.body = std::move(body);
}

void healthz_route(const HttpRequest&, HttpResponse& res) { res.body = "ok\n"; }

void sampling_route(const HttpRequest& req, HttpResponse& res) {
  std::string set = req.param("enable", req.param("on"));
  if (!set.empty()) {
    if (req.method != "POST") {
      error_response(res, 405, "leakscope: use POST to switch sampling");
      return;
    }
    bool on = set == "1" || set == "true" || set == "on";
    g_sampling.store(on, std::memory_order_relaxed);
    agent_log(on ? "sampling switched on" : "sampling switched off (dormant)");
  }
  res.body = g_sampling.load() ? "sampling: on\n" : "sampling: off\n";
}

void cmdline_route(const HttpRequest&, HttpResponse& res) {
  std::string out;
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0 && out.size() < (1 << 20)) {
      out.append(buf, static_cast<size_t>(n));
    }
    close(fd);
  }
  while (!out.empty() && out.back() == '\0') out.pop_back();
  res.body = out;  // arguments separated by NUL, like Go's os.Args joined with "\x00"
}

// Splits "host:port", "[v6]:port" or ":port" (loopback). False on syntax errors.
bool split_address(const std::string& addr, std::string& host, std::string& port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return false;
  host = addr.substr(0, colon);
  port = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "127.0.0.1";
  if (host == "localhost") host = "127.0.0.1";
  return !port.empty();
}

bool is_loopback(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
  }
  return false;
}

void write_announce(const sockaddr_storage& bound) {
  const char* path = config().announce;
  if (path[0] == '\0') return;
  char host[INET6_ADDRSTRLEN] = {};
  int port = 0;
  std::string text;
  if (bound.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&bound);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    text = std::string("[") + host + "]:" + std::to_string(port) + "\n";
  } else {
    auto* in = reinterpret_cast<const sockaddr_in*>(&bound);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    text = std::string(host) + ":" + std::to_string(port) + "\n";
  }
  std::string tmp = std::string(path) + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    agent_logf("cannot write LEAKSCOPE_ANNOUNCE file %s", path);
    return;
  }
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!ok || rename(tmp.c_str(), path) != 0) {
    unlink(tmp.c_str());
    agent_logf("cannot write LEAKSCOPE_ANNOUNCE file %s", path);
  }
}

// Binds the configured address; -1 (after saying why on stderr) when it must not or cannot.
int open_listener() {
  std::string host, port;
  if (!split_address(config().addr, host, port)) {
    agent_logf("LEAKSCOPE_ADDR=%s is not HOST:PORT; the debug server is off", config().addr);
    return -1;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* ai = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &ai) != 0 || ai == nullptr) {
    agent_logf("LEAKSCOPE_ADDR=%s: cannot parse the host (use a numeric address)", config().addr);
    return -1;
  }
  if (!is_loopback(ai->ai_addr) && config().token[0] == '\0') {
    agent_logf(
        "refusing to serve profiles on non-loopback address %s without LEAKSCOPE_TOKEN; "
        "the debug server is off, the program keeps running",
        config().addr);
    freeaddrinfo(ai);
    return -1;
  }
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
    agent_logf("cannot listen on %s (errno %d); the debug server is off", config().addr, errno);
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return -1;
  }
  freeaddrinfo(ai);
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  write_announce(bound);
  return fd;
}

void respond(Connection& c, const HttpResponse& res, bool head) {
  c.out = serialize(res);
  if (head) c.out.resize(c.out.find("\r\n\r\n") + 4);
  c.out_pos = 0;
  c.responding = true;
}

void on_readable(Connection& c) {
  char buf[8192];
  for (;;) {
    ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      if (c.in.size() > kMaxHeaderBytes + kMaxBodyBytes + 1024) break;
      continue;
    }
    if (n == 0) {  // peer closed before a full request
      if (!c.responding) c.deadline_ms = 0;
      return;
    }
    if (errno == EINTR) continue;
    break;  // EAGAIN
  }
  HttpRequest req;
  size_t consumed = 0;
  HttpResponse res;
  switch (parse_http_request(c.in, &req, &consumed)) {
    case ParseStatus::kIncomplete:
      return;
    case ParseStatus::kBad:
      error_response(res, 400, "leakscope: malformed request");
      break;
    case ParseStatus::kTooLarge:
      error_response(res, 413, "leakscope: request too large");
      break;
    case ParseStatus::kDone:
      handle(req, res);
      break;
  }
  respond(c, res, req.method == "HEAD");
}

// Returns false when the connection is finished.
bool on_writable(Connection& c) {
  while (c.out_pos < c.out.size()) {
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

void accept_all(std::vector<Connection>& conns) {
  for (;;) {
    int fd = accept4(g_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (static_cast<int>(conns.size()) >= kMaxConnections) {
      static const char kBusy[] =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      send(fd, kBusy, sizeof(kBusy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      close(fd);
      continue;
    }
    Connection c;
    c.fd = fd;
    c.deadline_ms = now_ms() + kConnectionDeadlineMs;
    conns.push_back(std::move(c));
  }
}

void serve_loop(std::vector<Connection>& conns) {
  int64_t interval_ms = config().dump_interval_s * 1000;
  int64_t next_dump = interval_ms > 0 ? now_ms() + interval_ms : INT64_MAX;
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({g_wake[0], POLLIN, 0});
    if (g_listen_fd >= 0) fds.push_back({g_listen_fd, POLLIN, 0});
    size_t first_conn = fds.size();
    int64_t now = now_ms(), wake_at = next_dump;
    for (const Connection& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.responding ? POLLOUT : POLLIN), 0});
      if (c.deadline_ms < wake_at) wake_at = c.deadline_ms;
    }
    int64_t timeout = wake_at == INT64_MAX ? -1 : (wake_at > now ? wake_at - now : 0);
    if (timeout > 60000) timeout = 60000;
    int rc = poll(fds.data(), fds.size(), static_cast<int>(timeout));
    if (rc < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      char drain[64];
      while (read(g_wake[0], drain, sizeof(drain)) > 0) {
      }
    }
    now = now_ms();
    if (g_dump_requested.exchange(false) || now >= next_dump) {
      write_dump_files();
      if (interval_ms > 0) next_dump = now_ms() + interval_ms;
    }
    if (g_listen_fd >= 0 && (fds[1].revents & POLLIN)) accept_all(conns);
    std::vector<Connection> keep;
    for (size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      short ev = first_conn + i < fds.size() ? fds[first_conn + i].revents : 0;
      if (!c.responding && (ev & (POLLIN | POLLHUP | POLLERR))) on_readable(c);
      bool alive = now < c.deadline_ms;
      if (alive && c.responding) alive = on_writable(c);
      if (alive) {
        keep.push_back(std::move(c));
      } else {
        close(c.fd);
      }
    }
    conns = std::move(keep);
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

void register_route(const char* path, const char* description, RouteHandler handler) {
  int i = g_route_count.load(std::memory_order_relaxed);
  if (i >= kMaxRoutes) {
    agent_logf("too many routes; %s is not served", path);
    return;
  }
  g_routes[i] = Route{path, description, handler};
  g_route_count.store(i + 1, std::memory_order_release);
}

void agent_request_dump() {
  g_dump_requested.store(true);
  if (g_wake[1] >= 0) {
    char b = 1;
    ssize_t ignored = write(g_wake[1], &b, 1);
    (void)ignored;
  }
}

void server_start() {
  bool serve = config().addr[0] != '\0';
  bool dump = config().dump_dir[0] != '\0';
  if (!serve && !dump) return;
  register_route("/debug/pprof/", "this index", index_route);
  register_route("/debug/pprof/cmdline", "the command line, arguments separated by NUL",
                 cmdline_route);
  register_route("/healthz", "liveness: answers ok", healthz_route);
  register_route("/debug/leakscope/sampling",
                 "sampling state; POST ?enable=1 or ?enable=0 switches it", sampling_route);
  metrics_init();
  if (serve) g_listen_fd = open_listener();
  if (g_listen_fd < 0 && !dump) return;
  if (pipe2(g_wake, O_NONBLOCK | O_CLOEXEC) != 0) return;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the thread inherits "everything blocked"
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&thread, &attr, agent_thread, nullptr) == 0) {
    g_thread_running.store(true);
    pthread_setname_np(thread, "leakscope");
  } else {
    agent_log("cannot start the agent thread; the debug server is off");
  }
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void server_after_fork_child() {
  // The agent thread does not exist in the child. The child keeps sampling into its own copy
  // of the books, but serves nothing: it must not answer on (or hold) the parent's port.
  if (g_listen_fd >= 0) close(g_listen_fd);
  g_listen_fd = -1;
  if (g_wake[0] >= 0) close(g_wake[0]);
  if (g_wake[1] >= 0) close(g_wake[1]);
  g_wake[0] = g_wake[1] = -1;
  g_thread_running.store(false);
}

}  // namespace leakscope::agent
