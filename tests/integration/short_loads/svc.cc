// A small service for tests/integration/run_short_*.sh: one HTTP/1.0 request per connection on
// 127.0.0.1 (the port of its third argument, or one the kernel picks; the port is written to the
// file named by its second argument), and one
// behaviour per mode, the patterns of issue 11's suite. Built at test time with g++ -O2 -g.
//   session   keeps 1 KiB per request in a global map (leak: remember_session)
//   threads   starts a detached thread every 10th request that never ends (leak: spawn_worker)
//   pipes     opens a pipe every 10th request and never closes it (leak: open_channel)
//   mmap      maps 16 KiB per request and never unmaps it (leak: map_buffer)
//   history   a background thread appends 512 B every 10 ms from start to exit (leak:
//             record_history), whatever the load does
//   metrics   a family labelled by the raw path, served on GET /metrics (leak: count_path)
//   lru       a bounded LRU of 500 entries of 1 KiB (no leak)
//   churn     16 KiB allocated and freed per request (no leak)
//   batches   2 KiB per request into a batch freed every 300 requests (no leak)
//   slow      keeps 160 B per request (leak: keep_crumb) beside 16 KiB of churn
//   realloc   appends 200 B per request to a log grown with realloc (leak: append_log)
//   cycle     two shared_ptrs per request that own each other (leak: make_pair_cycle)
//   ring      a ring of 2,000 records of 64 B-4 KiB replaced in turn (no leak)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

std::string mode;
long requests = 0;

std::map<long, std::string> sessions;
__attribute__((noinline)) void remember_session(long id) {
  sessions[id] = std::string(1024, static_cast<char>('a' + id % 26));
}

void* park(void*) {
  pause();
  return nullptr;
}
__attribute__((noinline)) void spawn_worker() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t t;
  pthread_create(&t, &attr, park, nullptr);
  pthread_attr_destroy(&attr);
}

std::vector<int> channels;
__attribute__((noinline)) void open_channel() {
  int fds[2];
  if (pipe(fds) == 0) channels.push_back(fds[0]);
}

std::vector<void*> buffers;
__attribute__((noinline)) void map_buffer() {
  void* p = mmap(nullptr, 16 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  std::memset(p, 1, 64);
  buffers.push_back(p);
}

std::mutex history_mu;
std::vector<std::unique_ptr<char[]>> history;
__attribute__((noinline)) void record_history() {
  std::lock_guard<std::mutex> lock(history_mu);
  history.emplace_back(new char[512]());
}
void history_loop() {
  for (;;) {
    record_history();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::map<std::string, long> path_counts;
__attribute__((noinline)) void count_path(const std::string& path) { ++path_counts[path]; }
std::string metrics_page() {
  std::string out = "# TYPE shortsvc_requests_total counter\n";
  for (const auto& [path, n] : path_counts)
    out += "shortsvc_requests_total{path=\"" + path + "\"} " + std::to_string(n) + "\n";
  out += "# TYPE shortsvc_up gauge\nshortsvc_up 1\n";
  return out;
}

struct Lru {
  std::list<long> order;
  std::unordered_map<long, std::pair<std::string, std::list<long>::iterator>> items;
};
Lru lru;
__attribute__((noinline)) void lru_put(long key) {
  lru.order.push_front(key);
  lru.items[key] = {std::string(1024, 'x'), lru.order.begin()};
  if (lru.items.size() > 500) {
    lru.items.erase(lru.order.back());
    lru.order.pop_back();
  }
}

__attribute__((noinline)) void churn() {
  std::unique_ptr<char[]> buf(new char[16 * 1024]);
  std::memset(buf.get(), 1, 16 * 1024);
  asm volatile("" : : "r"(buf.get()) : "memory");
}

std::vector<std::unique_ptr<char[]>> batch;
__attribute__((noinline)) void add_to_batch() {
  batch.emplace_back(new char[2048]());
  if (batch.size() >= 300) batch.clear();
}

std::vector<std::unique_ptr<char[]>> crumbs;
__attribute__((noinline)) void keep_crumb() { crumbs.emplace_back(new char[160]()); }

char* log_buf = nullptr;
size_t log_len = 0;
__attribute__((noinline)) void append_log(long id) {
  log_buf = static_cast<char*>(realloc(log_buf, log_len + 200));
  std::memset(log_buf + log_len, static_cast<int>(id & 0x7f), 200);
  log_len += 200;
}

struct Node {
  std::shared_ptr<Node> other;
  char payload[512];
};
__attribute__((noinline)) void make_pair_cycle() {
  auto a = std::make_shared<Node>();
  auto b = std::make_shared<Node>();
  a->other = b;
  b->other = a;
}

std::vector<std::unique_ptr<char[]>> ring_slots(2000);
__attribute__((noinline)) void ring_put(long id) {
  size_t size = 64 + static_cast<size_t>((id * 2654435761L) % 4032);
  ring_slots[static_cast<size_t>(id) % ring_slots.size()].reset(new char[size]());
}

std::string handle(const std::string& path) {
  if (path == "/metrics") return metrics_page();
  long id = requests++;
  if (mode == "session") remember_session(id);
  if (mode == "threads" && id % 10 == 0) spawn_worker();
  if (mode == "pipes" && id % 10 == 0) open_channel();
  if (mode == "mmap") map_buffer();
  if (mode == "metrics") count_path(path);
  if (mode == "lru") lru_put(id);
  if (mode == "churn") churn();
  if (mode == "batches") add_to_batch();
  if (mode == "slow") keep_crumb(), churn();
  if (mode == "realloc") append_log(id);
  if (mode == "cycle") make_pair_cycle();
  if (mode == "ring") ring_put(id);
  return "ok\n";
}

void serve(int client) {
  char buf[2048];
  std::string req;
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
    ssize_t n = read(client, buf, sizeof buf);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  std::string path = "/";
  size_t sp = req.find(' ');
  if (sp != std::string::npos) path = req.substr(sp + 1, req.find(' ', sp + 1) - sp - 1);
  std::string body = handle(path);
  std::string resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body;
  ssize_t off = 0;
  while (off < static_cast<ssize_t>(resp.size())) {
    ssize_t n = write(client, resp.data() + off, resp.size() - off);
    if (n <= 0) break;
    off += n;
  }
  close(client);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: svc MODE PORT_FILE [PORT]\n");
    return 2;
  }
  mode = argv[1];
  if (mode == "history") std::thread(history_loop).detach();
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(argc > 3 ? std::atoi(argv[3]) : 0));
  if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s, 128) != 0) return 1;
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  std::string tmp = std::string(argv[2]) + ".tmp";
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "%d\n", ntohs(a.sin_port));
    std::fclose(f);
    std::rename(tmp.c_str(), argv[2]);
  }
  for (;;) {
    int c = accept4(s, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) serve(c);
  }
}
