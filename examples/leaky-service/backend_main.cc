// leaky-backend: the demo's backend, a tiny HTTP/1.1 server on one epoll loop.
//
//   GET /ok          answers at once (a 256-byte body)
//   GET /slow?ms=N   answers after N ms (default 20), from a timer, without blocking the loop
//   GET /hang        never answers; the connection is held until the client closes it
//
// One thread and epoll, so a thousand hanging calls cost a thousand descriptors and nothing
// else. Keep-alive as HTTP/1.1 says (closed after the answer if the request asked, or was 1.0);
// request bodies (Content-Length) are read and ignored. The service starts this as its child
// (spawn_backend.h) with --parent PID: we ask the kernel for SIGTERM when the parent dies and
// also exit if our parent changes, so a backend never outlives the service. Prints
// "backend listening on 127.0.0.1:PORT" when ready.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  std::string in;     // bytes received and not yet parsed
  std::string out;    // bytes to send (when the socket was full)
  bool hung = false;  // a /hang request: never answer, wait for the client to go
  bool close_after = false;
  bool waiting = false;  // a /slow answer is pending on a timer
};

struct Timer {
  Clock::time_point due;
  int fd;
  bool close_after;
  bool operator>(const Timer& o) const { return due > o.due; }
};

int g_epoll = -1;
std::unordered_map<int, Conn> g_conns;  // by descriptor; only the loop thread touches these
std::priority_queue<Timer, std::vector<Timer>, std::greater<>> g_timers;

void drop(int fd) {
  ::epoll_ctl(g_epoll, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  g_conns.erase(fd);
}

void flush(int fd, Conn& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) return drop(fd);
    c.out.erase(0, static_cast<size_t>(n));
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  ev.data.fd = fd;
  ::epoll_ctl(g_epoll, EPOLL_CTL_MOD, fd, &ev);
  if (c.out.empty() && c.close_after) drop(fd);
}

void answer(int fd, Conn& c, int status, const std::string& body, bool close_after) {
  c.out += "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Not Found") +
           "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
           (close_after ? "\r\nConnection: close" : "") + "\r\n\r\n" + body;
  c.close_after = close_after;
  flush(fd, c);
}

bool header_has(const std::string& head, const char* needle) {
  return ::strcasestr(head.c_str(), needle) != nullptr;
}

// Parses and serves every complete request in c.in. Returns false if fd was dropped.
bool serve(int fd, Conn& c) {
  while (!c.hung && !c.waiting) {
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return true;
    std::string head = c.in.substr(0, end + 4);
    size_t body = 0;
    if (const char* cl = ::strcasestr(head.c_str(), "\r\ncontent-length:")) {
      body = std::strtoul(cl + 17, nullptr, 10);
    }
    if (c.in.size() < end + 4 + body) return true;  // wait for the rest of the body
    c.in.erase(0, end + 4 + body);
    bool close_after = header_has(head, "\r\nconnection: close") ||
                       head.find(" HTTP/1.0\r\n") != std::string::npos;
    std::string target = head.substr(head.find(' ') + 1);
    target = target.substr(0, target.find(' '));
    if (target.starts_with("/ok")) {
      answer(fd, c, 200, std::string(255, 'k') + "\n", close_after);
      if (!g_conns.contains(fd)) return false;
    } else if (target.starts_with("/slow")) {
      auto at = target.find("ms=");
      int ms = at == std::string::npos ? 20 : std::atoi(target.c_str() + at + 3);
      g_timers.push({Clock::now() + std::chrono::milliseconds(ms), fd, close_after});
      c.waiting = true;
    } else if (target.starts_with("/hang")) {
      c.hung = true;  // from now on we only wait for the client to close
    } else {
      answer(fd, c, 404, "not found\n", close_after);
      if (!g_conns.contains(fd)) return false;
    }
  }
  return true;
}

void on_readable(int fd) {
  Conn& c = g_conns[fd];
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) return drop(fd);  // the client closed (or reset): forget the connection
    if (!c.hung) c.in.append(buf, static_cast<size_t>(n));
  }
  serve(fd, c);
}

void fire_timers() {
  while (!g_timers.empty() && g_timers.top().due <= Clock::now()) {
    Timer t = g_timers.top();
    g_timers.pop();
    auto it = g_conns.find(t.fd);
    if (it == g_conns.end() || !it->second.waiting) continue;  // the client left meanwhile
    it->second.waiting = false;
    answer(t.fd, it->second, 200, "slow\n", t.close_after);
    if (auto again = g_conns.find(t.fd); again != g_conns.end()) serve(t.fd, again->second);
  }
}

int listen_loopback(int port, int* bound) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 4096) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return -1;
  }
  *bound = ntohs(addr.sin_port);
  return fd;
}

void accept_all(int listener) {
  for (;;) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or out of descriptors: try again on the next event
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    ::epoll_ctl(g_epoll, EPOLL_CTL_ADD, fd, &ev);
    g_conns[fd] = Conn{};
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  pid_t parent = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port") {
      port = std::atoi(argv[i + 1]);
    } else if (flag == "--parent") {
      parent = static_cast<pid_t>(std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr, "usage: leaky-backend [--port N] [--parent PID]\n");
      return 2;
    }
  }
  if (parent > 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) return 0;  // the parent died before we asked
  }
  ::signal(SIGPIPE, SIG_IGN);
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  int bound = 0;
  int listener = listen_loopback(port, &bound);
  if (listener < 0) {
    std::fprintf(stderr, "leaky-backend: error: cannot listen on port %d: %s\n", port,
                 std::strerror(errno));
    return 1;
  }
  g_epoll = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.fd = listener;
  ::epoll_ctl(g_epoll, EPOLL_CTL_ADD, listener, &lev);
  std::printf("backend listening on 127.0.0.1:%d\n", bound);
  std::fflush(stdout);

  std::vector<epoll_event> events(256);
  for (;;) {
    int timeout_ms = 1000;  // also the period of the parent check
    if (!g_timers.empty()) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(g_timers.top().due - Clock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), 1000)));
    }
    int n = ::epoll_wait(g_epoll, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        accept_all(listener);
      } else if (g_conns.contains(fd)) {
        if (events[i].events & EPOLLOUT) flush(fd, g_conns[fd]);
        if (g_conns.contains(fd) && (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR))) {
          on_readable(fd);
        }
      }
    }
    fire_timers();
    if (parent > 0 && ::getppid() != parent) return 0;
  }
}
