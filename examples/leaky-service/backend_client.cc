// See backend_client.h. EINTR is retried; everything else is the caller's to judge.
#include "examples/leaky-service/backend_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace {
int g_backend_port = 0;  // written once before the server starts, then only read
}  // namespace

void set_backend_port(int port) { g_backend_port = port; }
int backend_port() { return g_backend_port; }

int connect_backend(int fd) {
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(g_backend_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_get(int fd, std::string_view path, bool close) {
  std::string req = "GET ";
  req.append(path);
  req.append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (close) req.append("Connection: close\r\n");
  req.append("\r\n");
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

int64_t read_until_close(int fd, char* buf, int64_t cap) {
  int64_t got = 0;
  while (got < cap) {
    ssize_t n = ::recv(fd, buf + got, static_cast<size_t>(cap - got), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += n;
  }
  return got;
}
