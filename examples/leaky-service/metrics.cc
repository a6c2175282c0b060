// See metrics.h. One mutex guards the whole registry: the demo's load is small, and a single
// lock keeps the series counts exact for the tests that read them back through /metrics.
#include "examples/leaky-service/metrics.h"

#include <array>
#include <map>
#include <memory>
#include <mutex>

#include "examples/leaky-service/leaks.h"

namespace {

constexpr size_t kLatencyBuckets = 128;

struct Series {
  int64_t count = 0;
  std::array<int64_t, kLatencyBuckets> latency_buckets{};
};

std::mutex g_mu;
std::map<std::pair<std::string, std::string>, int64_t> g_route_counts;  // guarded by g_mu
std::map<std::string, std::unique_ptr<Series>> g_by_path;               // guarded by g_mu; the leak
std::map<std::string, std::unique_ptr<Series>> g_by_route;              // guarded by g_mu; the fix

constexpr std::array<std::string_view, 9> kRoutes = {
    "/append-slice",    "/hanging-thread",  "/open-file",    "/call-backend", "/fanout",
    "/metrics-by-path", "/request-context", "/steady-cache", "/metrics"};

// Label values escape backslash, double quote and newline (text format 0.0.4).
void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_family(std::string& out, const char* name, const char* help, const char* label,
                   const std::map<std::string, std::unique_ptr<Series>>& series) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const auto& [value, s] : series) {
    out += std::string(name) + "{" + label + "=\"";
    append_label_value(out, value);
    out += "\"} " + std::to_string(s->count) + "\n";
  }
}

}  // namespace

bool is_registered_route(std::string_view route) {
  for (auto r : kRoutes) {
    if (r == route) return true;
  }
  return false;
}

void count_route_request(std::string_view route, std::string_view variant) {
  std::lock_guard lock(g_mu);
  ++g_route_counts[{std::string(route), std::string(variant)}];
}

extern "C" int64_t leak_metrics_by_path(const char* raw_target) {
  std::lock_guard lock(g_mu);
  if (static_cast<int64_t>(g_by_path.size()) >= kCapHeapItems && !g_by_path.contains(raw_target)) {
    return kCapReached;
  }
  // The label is the raw path and query. (No shared helper: the allocation's innermost frame of
  // our code must be this function, not one it shares with its fix.)
  auto [it, inserted] = g_by_path.try_emplace(raw_target);
  if (inserted) it->second = std::make_unique<Series>();
  ++it->second->count;
  ++it->second->latency_buckets[0];
  int64_t held = static_cast<int64_t>(g_by_path.size());
  LEAKY_KEEP_FRAME();
  return held;
}

extern "C" int64_t fixed_metrics_by_path(const char* route) {
  std::lock_guard lock(g_mu);
  const char* label = is_registered_route(route) ? route : "other";
  auto [it, inserted] = g_by_route.try_emplace(label);
  if (inserted) it->second = std::make_unique<Series>();
  ++it->second->count;
  ++it->second->latency_buckets[0];
  int64_t held = static_cast<int64_t>(g_by_route.size());
  LEAKY_KEEP_FRAME();
  return held;
}

std::string render_metrics() {
  std::lock_guard lock(g_mu);
  std::string out;
  out += "# HELP leaky_requests_total Requests by registered route and variant.\n";
  out += "# TYPE leaky_requests_total counter\n";
  for (const auto& [key, count] : g_route_counts) {
    out += "leaky_requests_total{route=\"";
    append_label_value(out, key.first);
    out += "\",variant=\"" + key.second + "\"} " + std::to_string(count) + "\n";
  }
  append_family(out, "leaky_path_requests_total",
                "Requests by raw path and query (the cardinality leak).", "path", g_by_path);
  append_family(out, "leaky_route_requests_total",
                "Requests by registered route, other paths as \"other\" (the fix).", "route",
                g_by_route);
  return out;
}
