// The service's own metrics registry, served at /metrics in the Prometheus text format 0.0.4.
//
// Three families:
//   leaky_requests_total{route,variant}   requests by registered route: bounded by design;
//   leaky_path_requests_total{path}       requests by raw path and query: the cardinality leak
//                                         (one new series per distinct URL, never dropped);
//   leaky_route_requests_total{route}     the fix: by registered route, and one shared "other"
//                                         label for paths no route knows.
// Each by-path/by-route series also keeps a latency histogram of kLatencyBuckets fine buckets,
// the per-series cost that makes cardinality expensive in real client libraries (~1 KiB here).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Counts one request to a registered route ("leak" or "fixed" variant). Thread-safe.
void count_route_request(std::string_view route, std::string_view variant);

// Renders every family; the text ends with a newline. Thread-safe.
std::string render_metrics();

// Whether `route` is one of the service's registered routes (for the fixed label).
bool is_registered_route(std::string_view route);
