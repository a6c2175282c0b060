// The report model: everything `leakscope run` / `watch` found, as plain structs. Text, JSON and
// HTML are pure functions of it (the HTML from the JSON alone), so the three can never disagree.
// The JSON form is the contract in docs/report-schema.md (schema "leakscope.report/v1"): arrays
// are never null, unknown numbers are null, times are seconds since the first snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/finding.h"
#include "core/util/result.h"

namespace leakscope::report {

inline constexpr const char* kSchema = "leakscope.report/v1";

struct Target {
  std::vector<std::string> command;  // empty for watch
  std::optional<int64_t> pid;
  std::string source = "agent";    // "agent" | "pprof" | "proc"
  std::optional<std::string> url;  // the debug server scraped, if any
};

struct PhaseSpan {
  std::string name;  // baseline | load | cooldown | watch
  double start_s = 0;
  double end_s = 0;
};

struct SnapshotRef {
  double t_s = 0;
  std::string phase;
  std::map<std::string, std::string> files;  // signal -> path relative to the run directory
};

// One stack of a flame graph, root first, and its value in Flame::unit.
struct FlameEntry {
  std::vector<std::string> stack;
  int64_t value = 0;
};

struct Flame {
  std::string unit = "bytes";
  std::vector<FlameEntry> growth;  // end of baseline -> end of run, negative entries dropped
  std::vector<FlameEntry> final;   // the live heap at the last snapshot
};

struct Report {
  analysis::Verdict verdict = analysis::Verdict::kInconclusive;
  std::string summary;
  Target target;
  std::string started_at;  // ISO 8601 UTC
  double duration_s = 0;
  double interval_s = 1;
  std::optional<int64_t> limit_bytes;
  std::optional<std::string> limit_source;  // "cgroup" | "flag"
  std::vector<PhaseSpan> phases;
  std::vector<double> t_s;
  // Per-snapshot figures by schema key (rss_bytes, pss_bytes, heap_inuse_bytes, mmap_bytes,
  // threads, fds, goroutines); each as long as t_s; NaN is written as null.
  std::map<std::string, std::vector<double>> series;
  std::vector<analysis::Finding> findings;
  Flame flame;
  std::vector<SnapshotRef> snapshots;
  std::vector<std::string> notes;
};

// report.json text (2-space indented, ends with a newline).
std::string to_json(const Report& report);

// Reads a report.json document of schema leakscope.report/v1 (unknown keys are ignored).
Result<Report> from_json(const std::string& text);

// The text report: verdict first, then each finding with site, growth, rate, confidence and a
// short stack. `max_findings` bounds the list (the JSON keeps them all).
std::string render_text(const Report& report, size_t max_findings = 10);

// Folded stacks, one "frame;frame;frame value\n" line per entry (root first; ';' in names
// replaced by ':', the format flamegraph.pl, inferno and speedscope read).
std::string folded(const std::vector<FlameEntry>& entries);

// The flame graphs of a run from two sets of stacks (root first, already aggregated or not):
// `final` is the live heap at the end; growth is final minus `before` per stack, positives only.
Flame make_flame(const std::vector<FlameEntry>& before, const std::vector<FlameEntry>& final,
                 std::string unit = "bytes");

}  // namespace leakscope::report
