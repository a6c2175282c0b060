// Fleet mode's reading side: a Prometheus HTTP API client (cpp-httplib) and the queries that turn
// a selector and a window into core/fleet's InstanceData and FamilyCount. One error line for
// each way Prometheus can fail us: unreachable, a selector it rejects (its message passed on),
// nothing matched, gaps.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/detect_url.h"
#include "core/fleet/fleet.h"
#include "core/fleet/prom_api.h"
#include "core/util/result.h"

namespace httplib {
class Client;
}

namespace leakscope::cli {

class Prometheus {
 public:
  explicit Prometheus(Url url);
  ~Prometheus();
  const Url& url() const { return url_; }
  // GET /api/v1/<endpoint>?<params>; the error is Prometheus's own when it answers one.
  Result<std::string> api(const std::string& endpoint,
                          const std::vector<std::pair<std::string, std::string>>& params);
  Result<std::vector<fleet::PromSeries>> query(const std::string& promql, double at);
  Result<std::vector<fleet::PromSeries>> query_range(const std::string& promql, double start,
                                                     double end, double step);

 private:
  Url url_;
  std::unique_ptr<httplib::Client> client_;
};

struct FleetQuery {
  std::string selector;  // "{job=\"api\"}" or empty
  double start_s = 0, end_s = 0, step_s = 30;
  double count_step_s = 0;  // the cardinality query's step (coarser)
};

struct FleetData {
  std::vector<fleet::InstanceData> instances;
  std::vector<fleet::FamilyCount> counts;
};

// Checks the selector (Prometheus parses it; nothing matched is an error), then reads every
// family of fleet::memory_families(), the start times, restart counts and limits, and the series
// count per family and instance.
Result<FleetData> load_fleet(Prometheus& prom, const FleetQuery& q);

// For each leaking family: the label whose distinct values grew most between start and end.
void find_growing_labels(Prometheus& prom, const FleetQuery& q, fleet::FleetReport& report);

// /api/v1/status/tsdb's largest families, as a note (empty when unavailable).
std::string tsdb_note(Prometheus& prom);

}  // namespace leakscope::cli
