// The debug server's routing: serving /debug/pprof/ like Go's net/http/pprof so that pprof, go
// tool pprof, Parca and Pyroscope can scrape the agent. A subsystem adds a page with
// register_route() from its init; handle_request() authenticates, then finds the route.
//
// The agent thread that accepts clients and calls handle_request() is in server_loop.cc (its
// limits: never blocks the host, a slow or malformed client only ever costs its own
// connection); the listening socket is in server_listen.cc.
//
// Security: heap profiles reveal a process's internals. Loopback only, unless LEAKSCOPE_TOKEN is
// set; with a token every request needs "Authorization: Bearer <token>" (else 401; the scheme is
// case-insensitive), compared in constant time.
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "agent/own_fds.h"
#include "agent/server/http_request.h"
#include "agent/server/server_internal.h"

namespace leakscope::agent {

namespace {

constexpr int kMaxRoutes = 64;

struct Route {
  const char* path;
  const char* description;
  RouteHandler handler;
};

Route g_routes[kMaxRoutes];
std::atomic<int> g_route_count{0};

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

}  // namespace

std::string serialize_response(const HttpResponse& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + status_text(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "X-Content-Type-Options: nosniff\r\nConnection: close\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

namespace {

// Constant-time comparison, so a client cannot learn the token byte by byte.
bool token_matches(const std::string& given, const char* expected) {
  size_t n = strlen(expected);
  unsigned char diff = given.size() == n ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return diff == 0;
}

}  // namespace

void error_response(HttpResponse& res, int status, const std::string& message) {
  res.status = status;
  res.content_type = "text/plain; charset=utf-8";
  res.body = message + "\n";
  res.headers.emplace_back("X-Go-Pprof", "1");  // pprof then prints the body in its error
}

bool authorized(const HttpRequest& req) {
  const char* token = config().token;
  if (token[0] == '\0') return true;
  std::string given = bearer_credentials(req.header("authorization"));
  return !given.empty() && token_matches(given, token);
}

void handle_request(const HttpRequest& req, HttpResponse& res) {
  if (!authorized(req)) {
    error_response(res, 401, "leakscope: missing or wrong Authorization: Bearer token");
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return;
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

namespace {

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

// "ok" while the agent thread answers. When the program has run out of descriptors (accept
// failed with EMFILE in the last seconds; this very answer may be using the agent's reserve
// descriptor), a second line says so: still 200, the agent is alive, the host is in trouble.
void healthz_route(const HttpRequest&, HttpResponse& res) {
  res.body = "ok\n";
  ServerFigures f = server_figures();
  if (f.fds_exhausted) {
    res.body += "warning: the process is out of file descriptors (EMFILE: " +
                std::to_string(f.accept_emfile_total) + " failed accepts, the last " +
                std::to_string(f.last_emfile_age_ms / 1000) + " s ago)\n";
  }
}

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
  int fd = own_fd(open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC));  // see own_fds.h
  if (fd >= 0) {
    char buf[4096];
    ssize_t n;
    while (own_fd_live(fd) && (n = read(fd, buf, sizeof(buf))) > 0 && out.size() < (1 << 20)) {
      out.append(buf, static_cast<size_t>(n));
    }
    own_fd_close(fd);
  }
  while (!out.empty() && out.back() == '\0') out.pop_back();
  res.body = out;  // arguments separated by NUL, like Go's os.Args joined with "\x00"
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
  server_loop_start(serve);
}

}  // namespace leakscope::agent
