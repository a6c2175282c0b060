// Plain blocking HTTP/1.1 calls to the demo backend over loopback TCP, for the patterns that
// must control the socket themselves (leave it open, or cancel it from another thread).
// connect_backend() is always inlined so that socket() is called from the pattern's own frame
// and the descriptor's creation stack names the pattern, not this helper.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string_view>

// The backend's loopback port, set once at startup (before any request is served).
void set_backend_port(int port);
int backend_port();

// Returns a connected blocking socket to the backend, or -1.
__attribute__((always_inline)) inline int connect_backend() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(backend_port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends "GET path" (keep-alive unless `close`). Returns false on a send error.
bool send_get(int fd, std::string_view path, bool close);

// Reads until the peer closes (the request said Connection: close) or `cap` bytes are in `buf`.
// Blocks with no deadline: callers that need one cancel it with shutdown(fd, SHUT_RDWR).
// Returns the bytes read, or -1 on an error.
int64_t read_until_close(int fd, char* buf, int64_t cap);
