// The debug server's listening socket: LEAKSCOPE_ADDR parsed and checked (loopback, or a token),
// bound, registered as the agent's own descriptor at a high number, and announced in
// LEAKSCOPE_ANNOUNCE. When the program closes the socket under the agent (own_fds.h), the agent
// thread binds the same address and port again, so clients that know the port keep working.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "agent/own_fds.h"
#include "agent/server/server_internal.h"

namespace leakscope::agent {

namespace {

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

}  // namespace

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

namespace {

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
  int fd = own_fd(
      open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0644));
  if (fd < 0) {
    agent_logf("cannot write LEAKSCOPE_ANNOUNCE file %s", path);
    return;
  }
  bool ok =
      own_fd_live(fd) && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  own_fd_close(fd);
  if (!ok || rename(tmp.c_str(), path) != 0) {
    unlink(tmp.c_str());
    agent_logf("cannot write LEAKSCOPE_ANNOUNCE file %s", path);
  }
}

int bind_listener(const sockaddr* sa, socklen_t len, bool quiet) {
  int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, sa, len) != 0 || listen(fd, 64) != 0) {
    if (!quiet) {
      agent_logf("cannot listen on %s (errno %d); the debug server is off", config().addr, errno);
    }
    if (fd >= 0) close(fd);
    return -1;
  }
  return own_fd(fd);
}

// The configured address, checked: -1 (after saying why) when it must not or cannot be served.
int bind_configured(bool quiet) {
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
  int fd = -1;
  if (!is_loopback(ai->ai_addr) && config().token[0] == '\0') {
    agent_logf(
        "refusing to serve profiles on non-loopback address %s without LEAKSCOPE_TOKEN; "
        "the debug server is off, the program keeps running",
        config().addr);
  } else {
    fd = bind_listener(ai->ai_addr, ai->ai_addrlen, quiet);
  }
  freeaddrinfo(ai);
  return fd;
}

}  // namespace

int open_listener(sockaddr_storage* bound, const sockaddr_storage* again, bool quiet) {
  int fd = -1;
  if (again != nullptr) {
    socklen_t len = again->ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    fd = bind_listener(reinterpret_cast<const sockaddr*>(again), len, true);
  }
  if (fd < 0) fd = bind_configured(quiet);
  if (fd < 0) return -1;
  sockaddr_storage here{};
  socklen_t len = sizeof(here);
  getsockname(fd, reinterpret_cast<sockaddr*>(&here), &len);
  if (again == nullptr || memcmp(&here, again, sizeof(here)) != 0) write_announce(here);
  *bound = here;
  return fd;
}

}  // namespace leakscope::agent
