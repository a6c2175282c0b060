// The analysis of a run: per-site series in, findings and a verdict out. A run is a sequence of
// snapshots, each with a time and a phase (baseline, load, cooldown, or watch); for each signal,
// the run model (run_series.h) turns every snapshot's profile into per-site values
// (SiteSeriesBuilder) and reads the process figures into totals. analyze() then judges every
// series (judge.h), names retention (RSS held while the live heap came back), forecasts the time
// to the memory limit, applies suppressions and orders the findings. It knows nothing of
// processes, files or HTTP.
#pragma once

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/finding.h"
#include "core/analysis/judge.h"
#include "core/analysis/sites.h"
#include "core/analysis/suppress.h"

namespace leakscope::analysis {

// One site of one signal over the run. values[i] belongs to snapshot i; NaN where that
// snapshot has no profile of this signal (0 where it has one without this site).
struct SiteSeries {
  Signal signal = Signal::kHeap;
  std::vector<Frame> stack;  // a representative stack, leaf first
  size_t site = 0;           // index of the site frame in stack
  std::vector<double> values;
  // The samples' labels at the latest snapshot the site was seen in (fds: kind, path, peer;
  // threads: state): key -> value -> summed sample value. For the pattern catalogue.
  std::map<std::string, std::map<std::string, double>> labels = {};
  double objects = NAN;  // heap: in-use objects at the latest snapshot (NaN: not known)
  // ... of which in samples whose objects are 16 KiB or more on average (an array's backing store)
  double large_objects = 0;
  double large_bytes = 0;
  // The site's other stacks, latest and largest first (at most 3), each
  // with the index of its site frame: the pattern catalogue looks at every way in (a map node's
  // key string and the node itself are two stacks of one line).
  std::vector<std::pair<std::vector<Frame>, size_t>> more_stacks = {};
};

// One label of a metric family at the last scrape: how many distinct values it took, a few of them.
struct MetricLabel {
  std::string name;
  int64_t values = 0;
  std::vector<std::string> examples = {};
};

struct RunSeries {
  std::vector<double> t_s;    // seconds since the first snapshot
  std::vector<Phase> phase;   // one per snapshot
  double sampling_rate = 0;   // heap/mmap profiles' mean bytes between samples; <= 1: exact
  double requested_rate = 0;  // the rate asked for (--rate); 0: not known
  // The agent's sample budget raised the rate of allocation-heavy threads (its profiles say
  // so in a comment): sampling_rate is then the base rate times the largest raise seen.
  bool rate_raised_by_budget = false;
  // When the load ran in rounds: the time the first one ended (a snapshot is taken there).
  std::optional<double> first_round_end_s;
  std::vector<SiteSeries> sites;
  // Whole-process figures per snapshot (NaN = missed): any of heap, mmap, threads, fds,
  // goroutines, rss. Only the signals that were read.
  std::map<Signal, std::vector<double>> totals;
  // The target's own metrics (--metrics): per family name, its number of series at each
  // snapshot (NaN where the scrape failed, 0 where the family was not exposed yet).
  std::map<std::string, std::vector<double>> metric_families;
  std::map<std::string, std::vector<MetricLabel>> metric_labels;  // per family, the last scrape's
  std::optional<double> limit_bytes;
  bool go_runtime = false;  // the target is a Go program (retention advice differs)
};

struct AnalysisOptions {
  JudgeOptions judge;
  Suppressions suppressions;
  SiteOptions sites;               // --wrapper and the suppressions file's wrapper: lines
  size_t max_no_leak_shown = 12;   // no-leak findings kept to show what was examined
  size_t max_metric_families = 3;  // metric families reported, the most severe and largest first
};

struct Analysis {
  Verdict verdict = Verdict::kNoLeak;
  std::string summary;  // one line a person reads first
  std::vector<Finding> findings;
  std::vector<std::string> notes;
};

Analysis analyze(const RunSeries& run, const AnalysisOptions& options = {});

// The overall verdict of a set of findings: the most severe of those not suppressed (leak, then
// retention, inconclusive, no leak). analyze() and `leakscope report --suppress` both use it.
Verdict overall_verdict(const std::vector<Finding>& findings);

// Accumulates per-stack values snapshot by snapshot; finish() names every stack's site with one
// SiteRule learned over all the run's stacks (so allocator wrappers are found from all of them,
// and a stack's site does not change between snapshots), and sums the stacks of each site (same
// site frame, same caller). The representative stack is the largest contributor at the latest
// snapshot. Snapshots past the count given grow it (RunBuilder feeds them one at a time).
class SiteSeriesBuilder {
 public:
  explicit SiteSeriesBuilder(size_t snapshots = 0, SiteOptions options = {})
      : snapshots_(snapshots), options_(std::move(options)) {}
  // Keeps the snapshots whose `keep` is true (in order) and drops the others' values: a run that
  // grows too long thins its older points (run_series.h). keep.size() is the snapshot count.
  void compact(const std::vector<bool>& keep);
  // Snapshot `i` has a profile of `signal` (its sites not seen there count 0, not NaN).
  void mark_present(size_t i, Signal signal);
  // `labels`: the sample's labels (fds: kind, path, peer; threads: state); `objects`: its in-use
  // object count (heap), NaN when the profile has none. Kept for the latest snapshot only.
  void add(size_t i, Signal signal, const std::vector<Frame>& stack, double value,
           const std::vector<Label>& labels = {}, double objects = NAN);
  // The series by site; `wrappers`, when given, receives the allocator wrappers found.
  std::vector<SiteSeries> finish(std::vector<std::string>* wrappers = nullptr) const;

 private:
  struct Stack {
    Signal signal = Signal::kHeap;
    std::vector<Frame> frames;
    std::vector<double> values;
    size_t last = 0;  // latest snapshot with a value, and that value
    double last_value = -1;
    // At snapshot `last`: the samples' labels, objects, and those in samples of 16 KiB objects or
    // more on average (an array's backing store). For the pattern catalogue.
    std::map<std::string, std::map<std::string, double>> labels = {};
    double objects = NAN;
    double large_objects = 0;
    double large_bytes = 0;
  };
  static void add_details(SiteSeries& site, size_t& latest, const Stack& s);
  static constexpr size_t kMoreStacks = 3;  // SiteSeries::more_stacks
  static void add_more_stacks(SiteSeries& site, const Stack* best,
                              std::vector<std::pair<const Stack*, size_t>>& members);
  size_t snapshots_;
  SiteOptions options_;
  std::map<std::string, size_t> index_;  // signal and stack -> stacks_
  std::vector<Stack> stacks_;
  std::map<Signal, std::vector<bool>> present_;
};

}  // namespace leakscope::analysis
