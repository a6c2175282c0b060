// A bounded memcached load generator (text protocol) for the tracker tests: a fixed pool of
// persistent connections, each driven by its own thread through set/get pairs.
//
//   memcache_loader PORT CONNECTIONS WARM_REQUESTS REQUESTS HOLD_MS STATUS_FILE
//
// Every connection first does WARM_REQUESTS pairs; once all have, "warm" is appended to
// STATUS_FILE and every connection does REQUESTS more pairs. Then "done" is appended and the
// connections stay open HOLD_MS more (so the end of load can be observed with the same
// connections), then they close and "closed" is appended. Exits 1 on any protocol error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<int> g_warm{0};
std::atomic<bool> g_go{false};
std::atomic<bool> g_failed{false};
std::atomic<int> g_finished{0};

void append_status(const char* path, const char* line) {
  FILE* f = std::fopen(path, "a");
  if (f == nullptr) return;
  std::fprintf(f, "%s\n", line);
  std::fclose(f);
}

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Reads until the reply ends with `terminator`; false on error or EOF.
bool read_reply(int fd, const char* terminator) {
  std::string reply;
  char buf[4096];
  size_t tlen = std::strlen(terminator);
  while (reply.size() < tlen || reply.compare(reply.size() - tlen, tlen, terminator) != 0) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    reply.append(buf, static_cast<size_t>(n));
    if (reply.compare(0, 5, "ERROR") == 0 || reply.compare(0, 12, "SERVER_ERROR") == 0)
      return false;
  }
  return true;
}

bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool pair(int fd, int conn, long i) {
  std::string key = "k" + std::to_string(conn) + "_" + std::to_string(i % 64);
  std::string value(100, static_cast<char>('a' + i % 26));
  if (!send_all(fd,
                "set " + key + " 0 0 " + std::to_string(value.size()) + "\r\n" + value + "\r\n") ||
      !read_reply(fd, "STORED\r\n")) {
    return false;
  }
  return send_all(fd, "get " + key + "\r\n") && read_reply(fd, "END\r\n");
}

void drive(int port, int conn, long warm, long requests, int connections) {
  int fd = connect_to(port);
  if (fd < 0) {
    g_failed = true;
    ++g_warm;
    return;
  }
  for (long i = 0; i < warm && !g_failed; ++i) {
    if (!pair(fd, conn, i)) g_failed = true;
  }
  if (++g_warm == connections) g_go = true;
  while (!g_go && !g_failed) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (long i = 0; i < requests && !g_failed; ++i) {
    if (!pair(fd, conn, warm + i)) g_failed = true;
  }
  ++g_finished;
  // Hold the connection until main says so (after the hold).
  while (g_go) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: memcache_loader PORT CONNECTIONS WARM REQUESTS HOLD_MS STATUS\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  int connections = std::atoi(argv[2]);
  long warm = std::atol(argv[3]);
  long requests = std::atol(argv[4]);
  int hold_ms = std::atoi(argv[5]);
  const char* status = argv[6];
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back(drive, port, c, warm, requests, connections);
  }
  while (!g_go && !g_failed) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  append_status(status, "warm");
  while (g_finished < connections && !g_failed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  append_status(status, g_failed ? "failed" : "done");
  std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
  g_go = false;
  for (auto& t : threads) t.join();
  append_status(status, "closed");
  return g_failed ? 1 : 0;
}
