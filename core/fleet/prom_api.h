// The Prometheus HTTP API's JSON answers (query, query_range, status/tsdb, labels), parsed into
// series. Errors carry Prometheus's own message ("bad_data: 1:5: parse error: ..."), which the
// CLI passes on as it is. https://prometheus.io/docs/prometheus/latest/querying/api/
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/fleet/fleet.h"
#include "core/util/result.h"

namespace leakscope::fleet {

struct PromSeries {
  std::map<std::string, std::string> labels;
  Series values;  // a vector result gives one point
};

// A query or query_range answer ("matrix", "vector" or "scalar").
Result<std::vector<PromSeries>> parse_query(const std::string& body);

// A list answer (labels, label values): the strings of "data".
Result<std::vector<std::string>> parse_strings(const std::string& body);

// /api/v1/status/tsdb: seriesCountByMetricName as (name, count), largest first.
Result<std::vector<std::pair<std::string, int64_t>>> parse_tsdb_status(const std::string& body);

// "6h", "30s", "1d", "90m", "1h30m", "45" (seconds) -> seconds; nullopt when malformed.
std::optional<double> parse_duration(const std::string& text);

// `name` with the selector's matchers: name + "{job=\"api\"}" ("{...}" or empty).
std::string with_selector(const std::string& name, const std::string& selector);

}  // namespace leakscope::fleet
