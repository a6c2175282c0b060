// The target's own Prometheus metrics, scraped beside its profiles: `--metrics URL` names the
// endpoint (e.g. http://127.0.0.1:8080/metrics); with `--pprof URL` and no --metrics, the
// session tries BASE/metrics once at its first snapshot (a Go service often serves both on one
// port). Each scrape is parsed for series counts per family (core/metrics/prom_text.h); a scrape
// that fails or does not parse is a missing point, never the end of the run.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "cli/detect_scrape.h"
#include "cli/detect_url.h"
#include "core/metrics/prom_text.h"
#include "core/util/result.h"

namespace leakscope::cli {

// Series per metric family, by family name.
using MetricSeries = std::map<std::string, int64_t>;

// "http://host:port/path" or "host:port[/path]": the path as parse_url keeps it (no query, no
// trailing '/', cut at /debug/pprof), "/metrics" when that leaves none. Errors are parse_url's.
Result<Url> parse_metrics_url(const std::string& text);

// The URL beside a debug server: its host and port, prefix + "/metrics".
Url metrics_beside(const Url& debug);

class MetricsScraper {
 public:
  // Timeouts of 1 s to connect and 5 s to read: a hung /metrics costs a snapshot a few seconds,
  // never the run.
  explicit MetricsScraper(Url url) : scraper_(std::move(url)) { scraper_.set_timeouts(1, 5); }
  // One GET and parse. Errors: "metrics: GET http://...: HTTP 404", "metrics: http://...: line
  // 3: unterminated label value".
  Result<MetricSeries> scrape();
  std::string text() const { return scraper_.url().text(); }
  // Per family, its labels at the last successful scrape (for the pattern catalogue).
  const std::map<std::string, std::vector<metrics::LabelValues>>& last_labels() const {
    return last_labels_;
  }

 private:
  Scraper scraper_;
  std::map<std::string, std::vector<metrics::LabelValues>> last_labels_;
};

}  // namespace leakscope::cli
