// See detect_probe.h.
#include "cli/detect_probe.h"

#include <cmath>
#include <vector>

#include "cli/detect_checks.h"
#include "cli/detect_scrape.h"
#include "core/profile/profile_ops.h"

namespace leakscope::cli {

Result<bool> PprofProbe::check(const Url& url, pid_t target, const std::string& program) {
  Scraper scraper(url);
  scraper.set_timeouts(1, 5);
  int status = scraper.status("/debug/pprof/");
  if (status == 0) return false;
  if (std::string foreign = foreign_port_owner(url, target, program); !foreign.empty()) {
    // A second of grace: with SO_REUSEPORT the target may be about to listen beside it.
    auto now = std::chrono::steady_clock::now();
    if (!foreign_since_) foreign_since_ = now;
    if (now - *foreign_since_ < std::chrono::seconds(1)) return false;
    return make_error(foreign);
  }
  foreign_since_.reset();
  if (status == 404) return make_error(not_pprof_message(url, status));
  if (status != 200) return false;
  auto heap = scraper.profile("/debug/pprof/heap");
  if (!heap)
    return make_error(url.text() + "/debug/pprof/ answers, but its heap profile is not pprof (" +
                      heap.error().message + ")");
  return true;
}

HeapSeen heap_seen(const Session& session) {
  std::vector<double> totals;
  if (const std::vector<double>* heap = session.run().heap_totals())
    for (double t : *heap)
      if (!std::isnan(t)) totals.push_back(t);
  if (totals.size() < 3) return HeapSeen::kMoving;
  for (double t : totals)
    if (t != totals.front()) return HeapSeen::kMoving;
  return totals.front() == 0 ? HeapSeen::kEmpty : HeapSeen::kConstant;
}

std::string missing_heap(const Session& session) {
  if (!session.options().url) return "";
  size_t with = session.with_heap(), n = session.snapshot_count();
  const std::string& first_error = session.first_error_without_heap();
  if (n < 3 || 2 * with >= n) return "";
  return std::to_string(n - with) + " of " + std::to_string(n) + " snapshots have no heap profile" +
         (first_error.empty() ? std::string() : " (first: " + first_error + ")") +
         ": heap leaks invisible for most of the run";
}

Result<Source> probe_source(Scraper& s) {
  if (s.answers("/debug/pprof/fds")) return Source::kAgent;
  if (s.answers("/debug/pprof/goroutine")) return Source::kPprof;
  const Url& url = s.url();
  if (int status = s.status("/debug/pprof/"); status != 0 && status != 200)
    return make_error(not_pprof_message(url, status));
  return make_error("no pprof debug server answers at " + url.text() + "/debug/pprof/");
}

}  // namespace leakscope::cli
