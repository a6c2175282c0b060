// See detect_metrics.h.
#include "cli/detect_metrics.h"

#include "core/metrics/prom_text.h"

namespace leakscope::cli {

Result<Url> parse_metrics_url(const std::string& text) {
  // parse_url keeps the path as the prefix (and drops a query); a bare host:port means /metrics.
  auto url = parse_url(text);
  if (!url) return url;
  if (url->prefix.empty()) url->prefix = "/metrics";
  return url;
}

Url metrics_beside(const Url& debug) {
  Url u = debug;
  u.prefix += "/metrics";
  return u;
}

Result<MetricSeries> MetricsScraper::scrape() {
  auto body = scraper_.get_bounded("", metrics::ParseLimits{}.max_bytes);
  if (!body) return body.error().wrap("metrics");
  auto families = metrics::parse_prom_text(*body);
  if (!families) return families.error().wrap("metrics: " + text());
  MetricSeries out;
  last_labels_.clear();
  for (metrics::Family& f : *families) {
    out[f.name] = f.series;
    last_labels_[f.name] = std::move(f.labels);
  }
  return out;
}

}  // namespace leakscope::cli
