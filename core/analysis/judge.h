// The decision rule for one series: leak, or not, and how sure. judge.cc opens with the essay on
// the noise model and on why a cache that fills and then stays flat is not a leak.
#pragma once

#include <cmath>
#include <span>
#include <string>

#include "core/analysis/finding.h"

namespace leakscope::analysis {

// Knobs of the rule; the defaults are the documented ones (docs/analysis.md).
struct JudgeOptions {
  double alpha = 1e-3;        // Mann-Kendall significance over the load phase
  double late_alpha = 0.1;    // ... over the second half of the load (is it still growing?)
  double late_share = 0.25;   // the second half must carry at least this share of the growth
  double returned_max = 0.5;  // a cooldown that gives back more than this share is "came back"
  size_t min_points = 8;      // fewer snapshots under load: inconclusive at best
  double exact_floors = 10;   // an exact count that rose this many floors needs no rank test
};

// The smallest growth of a series that noise alone is unlikely to produce, in the signal's
// unit. `level` is the series' level at the end of the load, `baseline` its level before it,
// `sampling_rate` the heap profile's mean bytes between samples (<= 1: every allocation).
double noise_floor(Signal signal, double level, double baseline, double sampling_rate);

// One series: values at times t (seconds), each snapshot marked with its phase. NaN = missed.
struct SeriesView {
  std::span<const double> t;
  std::span<const double> x;
  std::span<const Phase> phase;
  bool exact = false;  // a count with no sampling noise (threads, fds, goroutines, metric series)
};

struct Judgement {
  Verdict verdict = Verdict::kNoLeak;
  bool worth_showing = false;  // grew beyond the noise floor at some point
  double growth = 0;           // end-of-load level minus start level
  double growth_per_s = 0;     // Theil-Sen over the load window
  double confidence = 0;       // in the verdict given
  double p_load = 1;           // Mann-Kendall over the load window
  double p_late = 1;           // ... over its second half
  double returned = NAN;       // share of the growth given back in cooldown; NaN: no cooldown
  double start_level = 0;
  double end_level = 0;
  double load_s = 0;           // duration of the load window
  bool watch = false;          // no baseline and no cooldown: the whole series was the window
  bool steady = false;         // judged over the whole run: it grew in baseline and cooldown too
  bool rising_at_end = false;  // the last quarter of the window (5+ snapshots) still rises
  size_t flat_tail = 0;        // snapshots at the window's end within half a floor
  std::string reason;          // the clause after the figures: "did not come back in cooldown"
};

Judgement judge(const SeriesView& series, double floor, const JudgeOptions& options = {});

// "1.5 MiB", "312 B", "12" (counts), for evidence sentences and the text report.
std::string human(double value, const char* unit);
// "1e-09", "0.03": a p-value in two significant digits.
std::string format_p(double p);

}  // namespace leakscope::analysis
