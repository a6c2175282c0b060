// Fleet mode's model: the memory series Prometheus keeps for every instance of a service, and
// the verdicts on them. RESIN's two stages (OSDI'22) on the engine users already run: a cheap
// pass over counters that every instance exports, judged with the same rules as `watch`
// (core/analysis/judge.h), then profiles only from the suspects (the CLI's job). Everything here
// is a pure function of the series, so tests feed it synthetic fleets (tests/unit/fleet).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/finding.h"

namespace leakscope::fleet {

inline constexpr const char* kSchema = "leakscope.fleet/v1";

// One series as Prometheus returns it: times in Unix seconds, ascending, one value each.
struct Series {
  std::vector<double> t;
  std::vector<double> x;
};

// The families fleet mode reads, what each counts, and in which order a kind prefers them.
struct Family {
  const char* name;
  analysis::Signal kind;
  const char* aggregate;  // how series of one instance combine: "sum" or "max"
};
// go_memstats_heap_inuse_bytes, go_memstats_heap_alloc_bytes, leakscope_heap_inuse_bytes (heap);
// container_memory_working_set_bytes, process_resident_memory_bytes (rss); go_goroutines;
// leakscope_tracked_threads, go_threads (threads); process_open_fds, leakscope_tracked_fds (fds).
const std::vector<Family>& memory_families();
// Families that are evidence but not judged as trends.
inline constexpr const char* kStartTime = "process_start_time_seconds";
inline constexpr const char* kRestartCount = "kube_pod_container_status_restarts_total";
inline constexpr const char* kContainerLimit = "container_spec_memory_limit_bytes";

// Everything known about one instance (its `instance` label) over the window.
struct InstanceData {
  std::string instance;
  std::string job;
  std::map<std::string, Series> families;  // family name -> the instance's series
  Series start_time;                       // process_start_time_seconds; may be empty
  Series restart_count;                    // a restart counter (kube-state-metrics); may be empty
  std::optional<double> limit_bytes;       // container_spec_memory_limit_bytes, when set
  std::map<std::string, std::string> labels;  // the target's labels (from `up`), for --debug-url
};

// The series count of one metric family on one instance over the window (cardinality).
struct FamilyCount {
  std::string family;
  std::string instance;
  std::string job;
  Series count;
};

struct Options {
  double window_s = 6 * 3600;
  double end_s = 0;                   // the window's end, Unix seconds
  std::optional<double> limit_bytes;  // --limit: overrides the container's limit
  size_t max_points = 360;            // longer series are thinned to bucket medians first
  double peer_factor = 3;             // an instance's slope this many MADs above its job's median
};

// A restart seen in the series: when, and how long the process before it had lived.
struct Restart {
  double t_s = 0;
  double uptime_s = 0;
};

// One judged series of an instance (one family).
struct SignalVerdict {
  std::string family;
  analysis::Signal kind = analysis::Signal::kRss;
  analysis::Verdict verdict = analysis::Verdict::kNoLeak;
  bool sawtooth = false;    // climbs, restarts at start-up level, climbs again
  double growth = 0;        // over the window (the last segment's, for a sawtooth)
  double growth_per_s = 0;  // Theil-Sen over the window (over climbing segments: a sawtooth)
  double start_level = 0;
  double end_level = 0;
  double p = 1;  // Mann-Kendall
  double confidence = 0;
  std::string evidence;
};

struct Site {
  std::string kind;
  std::string function;
  std::string file;
  int64_t line = 0;
};

struct InstanceVerdict {
  std::string instance;
  std::string job;
  analysis::Verdict verdict = analysis::Verdict::kNoLeak;  // leak, no-leak or inconclusive
  std::vector<std::string> kinds;                          // what leaks: "rss", "heap", ...
  std::string evidence;
  std::vector<std::string> found;  // the families found for this instance
  std::vector<SignalVerdict> signals;
  std::vector<Restart> restarts;
  std::optional<double> restart_interval_s;  // median time between restarts
  std::optional<double> limit_bytes;
  std::optional<double> time_to_limit_s;
  double peer_ratio = 0;  // memory slope over the job's median slope (0: no peers or none)
  double score = 0;       // ordering of suspects: the strongest leak first
  std::vector<Site> sites;
  std::string next_step;                      // where no profile could be taken: what to run
  std::map<std::string, std::string> labels;  // the target's labels (InstanceData::labels)
  Series chart;  // the memory series the verdict rests on (thinned), for the page
};

struct MetricVerdict {
  std::string family;
  analysis::Verdict verdict = analysis::Verdict::kNoLeak;
  int64_t series_start = 0;  // over the fleet (the selected instances)
  int64_t series_end = 0;
  std::vector<std::string> instances;  // where it grows
  std::string label;                   // the label whose distinct values grow, when known
  std::string evidence;
};

struct FleetReport {
  std::string prometheus;
  std::string selector;
  double window_s = 0;
  double end_s = 0;
  double step_s = 0;
  std::vector<std::string> found;          // families found anywhere in the fleet
  std::vector<InstanceVerdict> instances;  // suspects first
  std::vector<MetricVerdict> metrics;      // growing families first
  std::vector<std::string> notes;
};

// Thins a series to at most `n` points: medians of equal time buckets (a GC wave shorter than
// a bucket becomes its middle; a trend survives).
Series thin(const Series& s, size_t n);

// Restarts in an instance's series: where process_start_time_seconds changes, or a restart
// counter rises.
std::vector<Restart> find_restarts(const InstanceData& data);

// Judges one family's series of one instance, cut at `restarts`.
SignalVerdict judge_series(const std::string& family, analysis::Signal kind, const Series& s,
                           const std::vector<Restart>& restarts, const Options& options);

// The whole first stage: every instance judged, peers compared, limits forecast, cardinality
// judged. Instances come back suspects first.
FleetReport judge_fleet(const std::vector<InstanceData>& instances,
                        const std::vector<FamilyCount>& counts, const Options& options);

// fleet.json (schema leakscope.fleet/v1) and the text report.
std::string to_json(const FleetReport& report);
std::string render_text(const FleetReport& report, size_t max_instances = 20);
// A self-contained HTML page: the verdicts, a chart per suspect beside its job's spread.
std::string render_html(const FleetReport& report);

// Any instance leaks.
bool any_leak(const FleetReport& report);

}  // namespace leakscope::fleet
