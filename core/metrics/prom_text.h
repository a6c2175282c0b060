// Reading a service's own metrics: the Prometheus text exposition format, version 0.0.4, as
// served at /metrics by every Prometheus client library. The detective does not care about the
// values; it counts *series*. A metric family whose number of distinct label sets grows with
// traffic (a counter labelled by raw URL, by user id, by request id) is a leak of its own: each
// series costs memory in the service and in every system that scrapes it, and it is never freed.
// prom_text.cc opens with the grammar it accepts and how series are counted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace leakscope::metrics {

enum class MetricType { kUntyped, kCounter, kGauge, kHistogram, kSummary };

// "untyped", "counter", "gauge", "histogram", "summary" (the words of a # TYPE line).
const char* to_string(MetricType type);

// One metric family as exposed: its name (for a histogram or a summary, the name without the
// _bucket/_sum/_count suffixes), its declared type, and how many distinct series it has. A
// series is a distinct label set; a histogram's `le` and a summary's `quantile` labels do not
// make new series (they are the buckets and quantiles of one series). A family declared by
// # HELP or # TYPE with no samples has 0 series.
// How many distinct values one label name takes across a family's series, with the first few
// values seen: the label whose values grow with traffic is the one to fix.
struct LabelValues {
  std::string name;
  int64_t values = 0;
  std::vector<std::string> examples = {};  // at most kLabelExamples, in the order first seen
};
inline constexpr size_t kLabelExamples = 3;

struct Family {
  std::string name;
  MetricType type = MetricType::kUntyped;
  int64_t series = 0;
  std::vector<LabelValues> labels = {};  // by label name; `le` / `quantile` left out as for series
};

// Bounds on what one exposition may cost to read: a scrape of a runaway service must not make
// the detective the next thing to run out of memory.
struct ParseLimits {
  size_t max_bytes = 64 << 20;     // the whole text
  int64_t max_series = 2'000'000;  // summed over every family
};

// Parses one exposition. Families come in the order they first appear. Errors say where and
// what: "line 7: unterminated label value", "input: 70000000 bytes, over the 67108864 limit".
Result<std::vector<Family>> parse_prom_text(std::string_view text, const ParseLimits& limits = {});

}  // namespace leakscope::metrics
