// The analysis's vocabulary: signals, phases, verdicts and the Finding a verdict is carried in.
// Plain structs with no behaviour; the report model (core/report) holds them as they are, and
// every renderer reads them from there. Names as strings match report.json (docs/report-schema.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/profile/profile_ops.h"

namespace leakscope::analysis {

// A signal is what a series counts. heap/mmap are bytes (sampled, unbiased estimates),
// threads/fds/goroutines are counts, rss is bytes read from /proc.
enum class Signal { kHeap, kMmap, kThreads, kFds, kGoroutines, kRss, kMetrics };

enum class Phase { kBaseline, kLoad, kCooldown, kWatch };

// Ordered by severity: a run's verdict is the most severe unsuppressed finding's (leak first).
enum class Verdict { kLeak, kRetention, kInconclusive, kNoLeak };

const char* to_string(Signal s);
const char* to_string(Phase p);
const char* to_string(Verdict v);
std::optional<Signal> signal_from_string(const std::string& s);
std::optional<Phase> phase_from_string(const std::string& s);
std::optional<Verdict> verdict_from_string(const std::string& s);
// "bytes" for heap, mmap and rss; "count" for the others ("series" for metrics).
const char* unit_of(Signal s);

// What a finding most likely is, from the pattern catalogue (patterns.h): its id, the likely cause,
// what to change, and the evidence that matched. id "none": no pattern of the catalogue matched.
struct Pattern {
  std::string id;
  std::string cause;
  std::string fix;
  std::string evidence;
};

// One verdict on one site of one signal, with its evidence.
struct Finding {
  Signal kind = Signal::kHeap;
  Verdict verdict = Verdict::kNoLeak;
  Frame site;                // the first frame in the user's code; empty function: no stacks
  std::vector<Frame> stack;  // leaf first; may be empty (proc-only signals)
  std::string metric;        // kind metrics: the metric family's name; empty for other kinds
  double growth = 0;         // in unit_of(kind): end-of-load level minus start level
  double growth_per_s = 0;   // Theil-Sen slope over the load phase
  double confidence = 0;     // 0..1
  std::string evidence;      // one sentence a person reads: figures, tests, cooldown
  std::vector<double> t_s;   // the site's series, seconds since the first snapshot
  std::vector<double> values;
  std::optional<double> forecast_s_to_limit;  // only for byte leaks with a limit known
  bool suppressed = false;                    // matched --suppress; never counts for the verdict
  Pattern pattern;                            // set by match_patterns(); empty id: not matched yet
};

// What a headline or a card calls a finding, decided here once: the metric family; for a signal
// read without stacks (/proc threads or fds, RSS) "(whole process, no stacks)"; else the site's
// function, short_function_name'd.
std::string display_name(const Finding& f);
// A long C++ name without its parameter list, "ns::f(...)" (names up to `max` are kept whole).
std::string short_function_name(const std::string& name, size_t max = 60);
inline constexpr const char* kWholeProcess = "(whole process, no stacks)";

}  // namespace leakscope::analysis
