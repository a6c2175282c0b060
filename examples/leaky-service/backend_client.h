// Plain blocking HTTP/1.1 calls to the demo backend over loopback TCP, for the patterns that
// must control the socket themselves (leave it open, or cancel it from another thread).
// The patterns call socket(2) themselves, with kBackendSocket, and hand the descriptor to
// connect_backend(): a descriptor's creation stack then ends in the pattern's own function, not
// in a helper that several patterns (and their fixes) share.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string_view>

// The backend's loopback port, set once at startup (before any request is served).
void set_backend_port(int port);
int backend_port();

// socket(2) arguments for a backend connection.
inline constexpr int kBackendSocketType = SOCK_STREAM | SOCK_CLOEXEC;

// Connects fd (from socket(AF_INET, kBackendSocketType, 0)) to the backend. On failure closes fd
// and returns -1; else returns fd.
int connect_backend(int fd);

// Sends "GET path" (keep-alive unless `close`). Returns false on a send error.
bool send_get(int fd, std::string_view path, bool close);

// Reads until the peer closes (the request said Connection: close) or `cap` bytes are in `buf`.
// Blocks with no deadline: callers that need one cancel it with shutdown(fd, SHUT_RDWR).
// Returns the bytes read, or -1 on an error.
int64_t read_until_close(int fd, char* buf, int64_t cap);
