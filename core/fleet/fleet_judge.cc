// The first stage of fleet mode: every instance's series judged with watch's rule, restarts read
// as evidence, peers compared, the limit forecast, cardinality judged.
//
// Restarts. A process that restarts starts its memory again from its start-up level, so a leak
// that the kernel's OOM killer (or a liveness probe) keeps cutting short never shows as a trend
// over the window: it is a sawtooth. The series is therefore cut where process_start_time_seconds
// changes (or a restart counter rises) and each segment is judged on its own. Two or more
// segments that climb, with the level back near the first segment's start after each restart, is
// the OOM-restart loop: a leak, with the restarts and the time between them. Restarts of a
// process whose segments do not climb (deploys, crashes) are reported and are not a leak. A
// garbage collector's wave never restarts the process: it rises and falls back within a
// segment, which the trend test (a rank test over the whole segment, then again over its second
// half) does not call a trend.
//
// Thinning. 24 hours at a 30 s step is 2,880 points per series and Mann-Kendall is quadratic;
// each segment is thinned to its share of Options::max_points by medians of equal time buckets,
// which also turns a GC wave shorter than a bucket into its middle.
//
// Peers (RESIN's comparison). Instances of one job run the same code under the same traffic mix,
// so their memory slopes form a distribution; an instance whose slope lies far above its job's
// median (by Options::peer_factor robust deviations) is an outlier, and a leak found in every
// peer alike is a fleet-wide leak (or growth with traffic), which the evidence says.
#include <algorithm>
#include <cmath>
#include <set>

#include "core/analysis/judge.h"
#include "core/analysis/trend.h"
#include "core/fleet/fleet.h"

namespace leakscope::fleet {
namespace {

using analysis::Signal;
using analysis::Verdict;

constexpr size_t kMinSegmentPoints = 6;

Series slice(const Series& s, double from, double to) {
  Series out;
  for (size_t i = 0; i < s.t.size(); ++i) {
    if (s.t[i] < from || s.t[i] >= to || std::isnan(s.x[i])) continue;
    out.t.push_back(s.t[i]);
    out.x.push_back(s.x[i]);
  }
  return out;
}

// Byte series from Prometheus are exact figures, not sampled estimates: RSS's floor fits them.
double floor_for(Signal kind, double level, double start) {
  if (kind == Signal::kHeap || kind == Signal::kMmap) kind = Signal::kRss;
  return analysis::noise_floor(kind, level, start, 0);
}

analysis::Judgement judge_segment(Signal kind, const Series& s, double* floor_out) {
  std::vector<analysis::Phase> phase(s.x.size(), analysis::Phase::kWatch);
  analysis::SeriesView view{s.t, s.x, phase};
  size_t k = std::max<size_t>(1, s.x.size() / 5);
  double start = analysis::median(std::span<const double>(s.x.data(), std::min(k, s.x.size())));
  double end = s.x.empty() ? 0 : s.x.back();
  double floor = floor_for(kind, end, start);
  if (floor_out) *floor_out = floor;
  return analysis::judge(view, floor);
}

std::string unit(Signal kind) { return analysis::unit_of(kind); }

std::string duration(double s) {
  char buf[48];
  if (s >= 5400)
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  else if (s >= 90)
    std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
  else
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  return buf;
}

// The sawtooth rule over segments cut at restarts (see the essay above).
struct Segments {
  std::vector<Series> parts;
  std::vector<analysis::Judgement> judged;
  std::vector<double> floors;
  size_t climbing = 0, judged_count = 0;
  bool drops_back = true;
};

Segments segment(Signal kind, const Series& s, const std::vector<Restart>& restarts,
                 size_t max_points) {
  Segments out;
  std::vector<double> cuts{-INFINITY};
  for (const Restart& r : restarts) cuts.push_back(r.t_s);
  cuts.push_back(INFINITY);
  double span = s.t.empty() ? 1 : std::max(1.0, s.t.back() - s.t.front());
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    Series part = slice(s, cuts[i], cuts[i + 1]);
    if (part.t.empty()) continue;
    double share = (part.t.back() - part.t.front()) / span;
    part = thin(part, std::max<size_t>(kMinSegmentPoints * 4, size_t(max_points * share)));
    double floor = 0;
    analysis::Judgement j = judge_segment(kind, part, &floor);
    out.parts.push_back(std::move(part));
    out.judged.push_back(j);
    out.floors.push_back(floor);
  }
  for (size_t i = 0; i < out.parts.size(); ++i) {
    const auto& j = out.judged[i];
    if (out.parts[i].x.size() < kMinSegmentPoints) continue;
    ++out.judged_count;
    if (j.growth >= out.floors[i] && j.p_load < 0.01) ++out.climbing;
    if (i > 0) {
      // Back near where the previous process started, and well below where it ended.
      const auto& prev = out.judged[i - 1];
      double tolerance = std::max(out.floors[i], 0.25 * std::max(0.0, prev.growth));
      if (out.parts[i].x.front() > prev.start_level + tolerance) out.drops_back = false;
    }
  }
  return out;
}

std::string sawtooth_evidence(const SignalVerdict& v, const Segments& seg,
                              const std::vector<Restart>& restarts) {
  std::vector<double> up;
  for (const Restart& r : restarts) up.push_back(r.uptime_s);
  double every = analysis::median(up);
  std::string u = unit(v.kind);
  return v.family + " climbs " + analysis::human(v.growth_per_s * 3600, u.c_str()) +
         "/h, drops to its start-up level at each of " + std::to_string(restarts.size()) +
         " restarts (every " + duration(every) + "), and climbs again (" +
         std::to_string(seg.climbing) + " of " + std::to_string(seg.judged_count) +
         " lives climbing): an OOM-restart loop";
}

}  // namespace

Series thin(const Series& s, size_t n) {
  if (s.t.size() <= n || n == 0) return s;
  Series out;
  double t0 = s.t.front(), span = s.t.back() - s.t.front();
  size_t i = 0;
  std::vector<double> ts, xs;
  for (size_t b = 0; b < n; ++b) {
    double end = t0 + span * double(b + 1) / double(n);
    ts.clear();
    xs.clear();
    while (i < s.t.size() && (s.t[i] <= end || b + 1 == n)) {
      if (!std::isnan(s.x[i])) {
        ts.push_back(s.t[i]);
        xs.push_back(s.x[i]);
      }
      ++i;
    }
    if (xs.empty()) continue;
    out.t.push_back(analysis::median(ts));
    out.x.push_back(analysis::median(xs));
  }
  return out;
}

std::vector<Restart> find_restarts(const InstanceData& d) {
  std::vector<Restart> out;
  const Series& st = d.start_time;
  for (size_t i = 1; i < st.x.size(); ++i) {
    // The start time moves by scrape jitter of a second or so; a restart moves it by the uptime.
    if (st.x[i] > st.x[i - 1] + 2) out.push_back({st.t[i], st.x[i] - st.x[i - 1]});
  }
  const Series& rc = d.restart_count;
  if (out.empty()) {
    double last = rc.t.empty() ? 0 : rc.t.front();
    for (size_t i = 1; i < rc.x.size(); ++i) {
      if (rc.x[i] > rc.x[i - 1]) {
        out.push_back({rc.t[i], rc.t[i] - last});
        last = rc.t[i];
      }
    }
  }
  return out;
}

SignalVerdict judge_series(const std::string& family, Signal kind, const Series& s,
                           const std::vector<Restart>& restarts, const Options& o) {
  SignalVerdict v;
  v.family = family;
  v.kind = kind;
  Segments seg = segment(kind, s, restarts, o.max_points);
  if (seg.parts.empty()) {
    v.verdict = Verdict::kInconclusive;
    v.evidence = family + ": no points in the window";
    return v;
  }
  std::string u = unit(kind);
  if (!restarts.empty() && seg.climbing >= 2 && seg.drops_back &&
      2 * seg.climbing >= seg.judged_count) {
    std::vector<double> slopes;
    for (size_t i = 0; i < seg.parts.size(); ++i)
      if (seg.parts[i].x.size() >= kMinSegmentPoints) slopes.push_back(seg.judged[i].growth_per_s);
    const auto& last = seg.judged.back();
    v.verdict = Verdict::kLeak;
    v.sawtooth = true;
    v.growth_per_s = analysis::median(slopes);
    v.start_level = last.start_level;
    v.end_level = seg.parts.back().x.back();
    v.growth = last.growth;
    v.p = last.p_load;
    v.confidence = double(seg.climbing) / double(seg.judged_count);
    v.evidence = sawtooth_evidence(v, seg, restarts);
    return v;
  }
  // Not a sawtooth: judge the last life when it is long enough, else the longest.
  size_t pick = seg.parts.size() - 1;
  if (seg.parts[pick].x.size() < 16) {
    for (size_t i = 0; i < seg.parts.size(); ++i)
      if (seg.parts[i].x.size() > seg.parts[pick].x.size()) pick = i;
  }
  const analysis::Judgement& j = seg.judged[pick];
  v.verdict = j.verdict;
  v.growth = j.growth;
  v.growth_per_s = j.growth_per_s;
  v.start_level = j.start_level;
  v.end_level = j.end_level;
  v.p = j.p_load;
  v.confidence = j.confidence;
  v.evidence = family + " " + analysis::human(j.start_level, u.c_str()) + " -> " +
               analysis::human(j.end_level, u.c_str()) + " over " + duration(j.load_s) +
               " (Theil-Sen " + analysis::human(j.growth_per_s * 3600, u.c_str()) +
               "/h, Mann-Kendall p=" + analysis::format_p(j.p_load) + "): " + j.reason;
  if (!restarts.empty())
    v.evidence +=
        "; " + std::to_string(restarts.size()) + " restart(s) without a climb before them";
  return v;
}

}  // namespace leakscope::fleet
