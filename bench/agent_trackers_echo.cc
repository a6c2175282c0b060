// A loopback echo server with connection churn, and its load generator.
//
//   agent_trackers_echo server PORT_FILE
//       accepts on 127.0.0.1 (a free port, written to PORT_FILE) and starts one thread per
//       connection that echoes until EOF: every connection costs an accept, a pthread_create,
//       a thread exit and a close, which is what the trackers hook.
//   agent_trackers_echo client PORT THREADS CONNECTIONS_PER_THREAD REQUESTS_PER_CONNECTION
//       each thread opens CONNECTIONS_PER_THREAD connections in turn and does
//       REQUESTS_PER_CONNECTION round trips of 64 bytes on each; prints "requests_per_s <value>".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int kMessage = 64;

bool full_io(int fd, char* buf, bool write_side) {
  int done = 0;
  while (done < kMessage) {
    ssize_t n =
        write_side ? write(fd, buf + done, kMessage - done) : read(fd, buf + done, kMessage - done);
    if (n <= 0) return false;
    done += static_cast<int>(n);
  }
  return true;
}

void* echo(void* arg) {
  int fd = static_cast<int>(reinterpret_cast<intptr_t>(arg));
  char buf[kMessage];
  while (full_io(fd, buf, false) && full_io(fd, buf, true)) {
  }
  close(fd);
  return nullptr;
}

int server(const char* port_file) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 128) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("listen");
    return 1;
  }
  FILE* f = std::fopen(port_file, "w");
  std::fprintf(f, "%d\n", ntohs(addr.sin_port));
  std::fclose(f);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (;;) {
    int c = accept(listener, nullptr, nullptr);
    if (c < 0) continue;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    pthread_t t;
    if (pthread_create(&t, &attr, echo, reinterpret_cast<void*>(static_cast<intptr_t>(c))) != 0) {
      close(c);
    }
  }
}

std::atomic<bool> g_failed{false};

void client_thread(int port, int connections, int requests) {
  char buf[kMessage];
  std::memset(buf, 'x', sizeof(buf));
  for (int c = 0; c < connections && !g_failed; ++c) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) g_failed = true;
    for (int r = 0; r < requests && !g_failed; ++r) {
      if (!full_io(fd, buf, true) || !full_io(fd, buf, false)) g_failed = true;
    }
    close(fd);
  }
}

int client(int port, int threads, int connections, int requests) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(client_thread, port, connections, requests);
  for (auto& t : pool) t.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (g_failed) {
    std::fprintf(stderr, "a request failed\n");
    return 1;
  }
  std::printf("requests_per_s %.0f\n", static_cast<double>(threads) * connections * requests / s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "server") == 0) return server(argv[2]);
  if (argc == 6 && std::strcmp(argv[1], "client") == 0) {
    return client(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
  }
  std::fprintf(stderr,
               "usage: agent_trackers_echo server PORT_FILE\n"
               "       agent_trackers_echo client PORT THREADS CONNS_PER_THREAD REQS_PER_CONN\n");
  return 2;
}
