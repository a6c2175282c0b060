// The run as a model built one snapshot at a time: what `run`, `watch` and the golden test feed
// their snapshots into, and what the analysis (analyze()) and the report are made from.
//
// Each snapshot's profiles are symbolized once as they arrive (one Symbolizer for the run, whose
// cache resolves each address once), reduced at once to per-stack values (SiteSeriesBuilder) and
// whole-process totals, and dropped: only the baseline heap and the latest one are kept, for the
// flame graphs. So a snapshot costs the same at the end of a day's watch as at its start.
//
// Resolution. A watch at --interval 0.1 takes 36,000 snapshots an hour; the builder keeps at most
// `max_points` points. When that many are held, the points older than the `recent_points` latest
// are thinned to every 2nd, 4th, ... snapshot (by snapshot number, so the older part stays evenly
// spaced) until they fill no more than half of what is left; the first and last point of every
// phase and the end of a load's first round are always kept. Trend tests (trend.h) are rank and
// median based and read times, not positions, so an evenly thinned past judges like the full one;
// the recent window keeps full resolution where "still growing at the end" is decided.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/profile/profile.h"
#include "core/symbolize/symbolizer.h"

namespace leakscope::analysis {

// One snapshot as taken: the decoded profiles (symbolized by RunBuilder::add) and the process
// figures, each nullopt when not read.
struct SnapshotIn {
  double t_s = 0;  // seconds since the run started
  Phase phase = Phase::kWatch;
  std::map<Signal, Profile> profiles;
  std::optional<int64_t> rss_bytes, pss_bytes, threads, fds;
  // Series count per metric family; nullopt when not scraped (or the scrape failed).
  std::optional<std::map<std::string, int64_t>> metrics;
  std::map<std::string, std::string> files;  // signal -> path relative to the run directory
};

// A point of the model: the snapshot it was, and where its profiles are.
struct PointRef {
  double t_s = 0;
  Phase phase = Phase::kWatch;
  std::map<std::string, std::string> files;
};

// One stack of a heap profile, root first, and its in-use bytes: for the flame graphs.
struct StackValue {
  std::vector<std::string> stack;
  int64_t value = 0;
};

struct RunModel {
  RunSeries run;  // for analyze(); requested_rate, limit_bytes, first_round_end_s: the caller's
  // The report's whole-process series by name (heap_inuse_bytes, mmap_bytes, threads, fds,
  // goroutines, rss_bytes, pss_bytes): only those read at least once, NaN where missed.
  std::map<std::string, std::vector<double>> series;
  std::vector<PointRef> points;          // one per point kept, as run.t_s
  size_t snapshots = 0;                  // snapshots fed, before thinning
  std::vector<StackValue> flame_before;  // heap at the end of the baseline (or the first one)
  std::vector<StackValue> flame_final;   // heap at the last snapshot
  bool has_flame = false;                // the last snapshot had a heap profile
  std::vector<std::string> notes;        // symbolization and allocator wrappers
};

struct RunBuilderOptions {
  SiteOptions sites;
  bool go_runtime = false;
  size_t max_points = 2000;    // the most points held (>= 4 * recent_points / 3 + 8)
  size_t recent_points = 600;  // the latest points, never thinned
  SymbolizeOptions symbolize = {};
};

class RunBuilder {
 public:
  explicit RunBuilder(RunBuilderOptions options = {});
  ~RunBuilder();
  RunBuilder(const RunBuilder&) = delete;
  RunBuilder& operator=(const RunBuilder&) = delete;

  // Symbolizes the snapshot's profiles and reduces them; the profiles are not kept.
  void add(SnapshotIn snapshot);
  // The latest point ends a round of the load: it is never thinned away.
  void end_round();

  size_t snapshots() const { return snapshots_; }
  size_t points() const { return points_.size(); }
  // The heap profile's total in-use bytes at each point (NaN where it had none).
  const std::vector<double>* heap_totals() const;

  // The model so far; the builder can go on being fed.
  RunModel finish() const;

 private:
  struct Point {
    PointRef ref;
    size_t seq = 0;        // snapshot number
    bool keep = false;     // a phase boundary or the end of a round
    bool scraped = false;  // metrics were scraped
    std::optional<double> pss;
  };
  void reduce(size_t i, Signal signal, Profile& profile);
  void put(Signal total, size_t i, std::optional<double> v);
  void add_metrics(size_t i, const std::optional<std::map<std::string, int64_t>>& metrics);
  void thin();

  RunBuilderOptions options_;
  std::unique_ptr<Symbolizer> symbolizer_;
  SiteSeriesBuilder sites_;
  std::vector<Point> points_;
  std::map<Signal, std::vector<double>> totals_;  // rss from /proc; threads, fds: /proc first
  std::map<std::string, std::vector<double>> metric_families_;
  size_t snapshots_ = 0;
  size_t stride_ = 1;  // the older points kept are those whose seq is a multiple of it
  double sampling_rate_ = 0;
  bool rate_raised_by_budget_ = false;
  std::optional<Profile> before_heap_, last_heap_;
  bool before_set_ = false;
  bool last_has_heap_ = false;
  std::vector<std::string> notes_;
};

// The name of a whole-process series in the report (heap_inuse_bytes, ..., rss_bytes).
const char* series_name(Signal signal);

}  // namespace leakscope::analysis
