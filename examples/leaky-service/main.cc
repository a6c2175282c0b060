// leaky-service: an HTTP service that leaks in every way real services leak, each pattern beside
// its fix. It is the ground truth for leakscope's tests and the subject of its demo: every leak
// below is listed, with the function that makes it, in examples/ground_truth.json.
//
//   GET /<pattern>           the leak          GET /<pattern>?fixed=1   the fix
//   /append-slice /hanging-thread /open-file /call-backend /fanout /metrics-by-path
//   /request-context          and /steady-cache, the control (an LRU cache that fills, then
//                             stays flat), and /metrics (Prometheus text 0.0.4).
//
// Start-up order matters for the watchers: the backend process, the fixed variants' thread pool
// and keep-alive clients all exist before the port is announced, so an idle baseline already
// holds them. The announcement is the line "listening on 127.0.0.1:PORT" on stdout.
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "examples/leaky-service/backend_client.h"
#include "examples/leaky-service/leaks.h"
#include "examples/leaky-service/metrics.h"
#include "examples/leaky-service/spawn_backend.h"

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  int backend_port = 0;
  std::string backend_bin;
  int workers = 8;
  std::string port_file;
};

using Pattern = std::function<int64_t(const httplib::Request&)>;

std::atomic<int64_t> g_request_ids{0};
std::atomic<int64_t> g_cache_misses{0};

void respond(httplib::Response& res, std::string_view route, std::string_view variant,
             int64_t held) {
  std::string body = std::string(route) + " " + std::string(variant) + ": ";
  if (held == kCapReached) {
    res.status = 503;
    body += "safety cap reached, not leaking more\n";
  } else if (held == kFailed) {
    res.status = 502;
    body += "failed (is the backend up?)\n";
  } else {
    body += "holds " + std::to_string(held) + "\n";
  }
  res.set_content(body, "text/plain; charset=utf-8");
}

// Registers GET route (and GET route/...) serving `leak`, or `fixed` with ?fixed=1.
void add_pattern(httplib::Server& srv, const std::string& route, Pattern leak, Pattern fixed) {
  auto handler = [route, leak, fixed](const httplib::Request& req, httplib::Response& res) {
    bool is_fixed = req.get_param_value("fixed") == "1";
    std::string_view variant = route == "/steady-cache" ? "control" : is_fixed ? "fixed" : "leak";
    int64_t held = is_fixed ? fixed(req) : leak(req);
    count_route_request(route, variant);
    respond(res, route, variant, held);
  };
  srv.Get(route + "(/.*)?", handler);
}

void add_routes(httplib::Server& srv) {
  using R = const httplib::Request&;
  add_pattern(
      srv, "/append-slice", [](R) { return leak_append_slice(++g_request_ids); },
      [](R) { return fixed_append_slice(++g_request_ids); });
  add_pattern(
      srv, "/hanging-thread", [](R) { return leak_hanging_thread(); },
      [](R) { return fixed_hanging_thread(); });
  add_pattern(
      srv, "/open-file", [](R) { return leak_open_file(); }, [](R) { return fixed_open_file(); });
  add_pattern(
      srv, "/call-backend", [](R) { return leak_call_backend(); },
      [](R) { return fixed_call_backend(); });
  add_pattern(
      srv, "/fanout", [](R) { return leak_fanout(); }, [](R) { return fixed_fanout(); });
  add_pattern(
      srv, "/metrics-by-path", [](R r) { return leak_metrics_by_path(r.target.c_str()); },
      [](R r) { return fixed_metrics_by_path(r.path.c_str()); });
  add_pattern(
      srv, "/request-context", [](R r) { return leak_request_context(r.target.c_str()); },
      [](R r) { return fixed_request_context(r.target.c_str()); });
  // The control has no leaky variant: ?key=N looks N up; without it, keys cycle through 4x the
  // capacity, so three lookups in four miss and evict (steady churn at a flat size).
  Pattern cache = [](R r) {
    int64_t key =
        r.has_param("key") ? std::atoll(r.get_param_value("key").c_str()) : ++g_cache_misses % 4096;
    return steady_cache_lookup(key);
  };
  add_pattern(srv, "/steady-cache", cache, cache);
  srv.Get("/metrics", [](R, httplib::Response& res) {
    count_route_request("/metrics", "-");
    res.set_content(render_metrics(), kPrometheusContentType);
  });
  srv.Get("/", [](R, httplib::Response& res) {
    res.set_content(
        "leaky-service: GET /append-slice /hanging-thread /open-file /call-backend /fanout "
        "/metrics-by-path /request-context (add ?fixed=1 for the fix), /steady-cache, /metrics\n",
        "text/plain; charset=utf-8");
  });
}

// Descriptor leaks need room: raise the soft limit on open files to the hard limit.
void raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::string default_backend_bin() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("leaky-backend") : (self.parent_path() / "leaky-backend").string();
}

void announce(const Options& opt, int port) {
  std::printf("listening on %s:%d\n", opt.host.c_str(), port);
  std::fflush(stdout);
  if (opt.port_file.empty()) return;
  std::string tmp = opt.port_file + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::filesystem::rename(tmp, opt.port_file);  // readers never see a half-written file
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"leaky-service: the leakscope demo service (every leak beside its fix)"};
  app.add_option("--host", opt.host, "address to bind (loopback by default)");
  app.add_option("--port", opt.port, "port to bind, 0 = pick a free one (announced on stdout)");
  app.add_option("--backend-port", opt.backend_port,
                 "use a running leaky-backend on this loopback port (0 = start one)");
  app.add_option("--backend-bin", opt.backend_bin, "leaky-backend binary to start")
      ->default_str("leaky-backend beside this binary");
  app.add_option("--workers", opt.workers, "size of the server's worker pool")
      ->check(CLI::Range(1, 256));
  app.add_option("--port-file", opt.port_file, "also write the port to this file");
  CLI11_PARSE(app, argc, argv);

  ::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  if (opt.backend_port == 0) {
    std::string error;
    BackendProcess backend =
        spawn_backend(opt.backend_bin.empty() ? default_backend_bin() : opt.backend_bin, &error);
    if (backend.pid < 0) {
      std::fprintf(stderr, "leaky-service: error: backend: %s\n", error.c_str());
      return 1;
    }
    opt.backend_port = backend.port;
    std::printf("backend on 127.0.0.1:%d pid %d\n", backend.port, static_cast<int>(backend.pid));
  }
  set_backend_port(opt.backend_port);
  start_fixed_thread_pool();
  start_fixed_client_pool();

  httplib::Server srv;
  srv.new_task_queue = [&opt] { return new httplib::ThreadPool(opt.workers); };
  srv.set_keep_alive_max_count(100000);
  srv.set_tcp_nodelay(true);  // no 40 ms Nagle + delayed-ACK stall between header and body
  int listen_fd = -1;
  srv.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd = sock;
  });
  add_routes(srv);
  int port = opt.port == 0 ? srv.bind_to_any_port(opt.host) : opt.port;
  if (opt.port != 0 && !srv.bind_to_port(opt.host, opt.port)) port = -1;
  if (port <= 0) {
    std::fprintf(stderr, "leaky-service: error: cannot bind %s:%d\n", opt.host.c_str(), opt.port);
    return 1;
  }
  // Debian's cpp-httplib is a compiled library that listens with a backlog of 5. The demo loads
  // open a connection per request from about 20 clients at once: the accept queue overflowed
  // (TcpExtListenOverflows), connections waited 0.2-1 s for a SYN-ACK retransmit, and the service
  // was served a third of what was asked, agent or not. listen() again only resizes the queue.
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);
  announce(opt, port);
  return srv.listen_after_bind() ? 0 : 1;
}
