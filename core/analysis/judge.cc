// The decision rule: is this series a leak?
//
// The noise model. A heap site's series is an estimate, not a measurement: the agent (and Go's
// runtime) records an allocation with probability 1 - exp(-size/R), R the sampling rate (512 KiB
// by default), and scales each recorded one back up. A site holding B live bytes is therefore
// seen as roughly Poisson(B/R) samples of R bytes each: its estimate has a standard deviation of
// about sqrt(B*R). Two things follow. A site whose live set churns (request buffers allocated and
// freed) wanders by a few R between snapshots for no reason at all; and a growth smaller than a
// handful of R cannot be told from that wander. So the rule never compares two snapshots: it
// asks a rank test (Mann-Kendall) whether the series rises *consistently* across the whole load
// phase, at a strict level (alpha = 1e-3, chosen because a run tests hundreds of sites), and it
// ignores any growth below a floor of max(4 R, 3 sqrt(B R)) -- three standard deviations of the
// wander, and never less than four samples' worth. Counts (threads, fds, goroutines) have no
// sampling noise but do have load noise (connections in flight), so their floor is a few units
// or a tenth of the baseline. RSS moves in pages and allocator chunks: its floor is 4 MiB or 5%.
//
// Why a steady cache is not a leak. A cache without eviction and a bounded key space grows
// while it fills and then stays flat however long the load goes on; a leak keeps growing as long
// as requests keep coming. Over the whole load both rise, so the rule looks again at the second
// half of the load on its own: a leak is still rising there (Mann-Kendall at 0.1, and at least a
// quarter of the total growth and a whole noise floor happen in it), a filled cache is not.
// The whole floor, not half of one, is what stops a bounded structure whose contents turn over
// slower than the snapshots (a ring buffer on a busy machine): its estimate wanders like a
// random walk, and a walk that drifts up passes both trend tests. With half a floor 1.2% of such
// rings were called leaks (tests/unit/analysis/judge_test.cc, SlowlyTurningRingIsNotALeak), with
// a whole one none of 3,000; the price is detection near the threshold at a given rate (94.9%
// instead of 97.6% for 5,000 requests of 1 KiB at 64 KiB), which is why `run` samples every
// 16 KiB. A false alarm costs an engineer's night; a leak near the threshold is found by a
// finer rate or a longer load.
// This is the one place where a longer load helps: a cache still filling at the end of the load
// looks like a leak, and the only cure is a load long enough to fill it (the evidence sentence says
// how much grew when).
//
// Why cooldown matters. Memory held by requests in flight, connection buffers and pools that
// grow with concurrency rises under load too, and goes away when the load stops. A leak does
// not: the rule requires the level in the second half of the cooldown to keep more than half of
// what the load added. A run without cooldown (watch) judges on the trend alone.
//
// A series that only accumulates (eight steps up or more, none down: every sampled object stays)
// needs only half a floor in the second half: a ring's random walk steps down as often as up.
//
// Short loads. Mann-Kendall needs 8 points to reach 1e-3, but two kinds of evidence need fewer.
// An exact count (threads, descriptors, goroutines, a metric family's series) has no sampling
// noise: one that rose by ten floors or more, still rose by a whole floor in the second half of
// the load, and kept it in cooldown is a leak on any number of points (connections in flight
// rise as much, but come back when the load stops). It is asked only where the rank test lacks
// the points (or the ties) to decide; elsewhere exact counts take the usual rule.
//
// Leaks that do not follow the load. A background thread that appends to a history every few
// milliseconds grows in baseline, under load and in cooldown alike; measured against the load it
// looks like a few points of a slope. So every series of a run with phases is also judged over
// the whole run: rising across it (Mann-Kendall 1e-3 over every point), rising within the
// baseline and within the cooldown on their own (0.1 each), by a whole floor overall and half a
// floor in cooldown. An idle sampled site does not move at all (nothing is allocated), so a rise
// while idle is real allocation; a cache that fills under load is flat in cooldown, and deferred
// work that lands after the load did not rise in the baseline.
//
// Confidence is the product of the evidence: (1 - p_load) (1 - p_late) (1 - e^(-growth/floor))
// (share kept in cooldown), so every weak link shows in the number.
#include "core/analysis/judge.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "core/analysis/trend.h"

namespace leakscope::analysis {
namespace {

struct Window {
  std::vector<double> t, x;
};

Window slice(const Window& w, size_t from, size_t to) {
  Window out;
  for (size_t i = from; i < to && i < w.x.size(); ++i) {
    out.t.push_back(w.t[i]);
    out.x.push_back(w.x[i]);
  }
  return out;
}

// The series split by phase: baseline, the load window (the last baseline point, then every
// load point) and cooldown. A watch run is all "load" and has no cooldown.
struct Phases {
  Window baseline, load, cooldown;
};

Phases split(const SeriesView& s) {
  Phases p;
  for (size_t i = 0; i < s.x.size() && i < s.t.size() && i < s.phase.size(); ++i) {
    if (std::isnan(s.x[i])) continue;
    Window& w = s.phase[i] == Phase::kBaseline   ? p.baseline
                : s.phase[i] == Phase::kCooldown ? p.cooldown
                                                 : p.load;
    w.t.push_back(s.t[i]);
    w.x.push_back(s.x[i]);
  }
  if (!p.baseline.x.empty() && !p.load.x.empty()) {
    p.load.t.insert(p.load.t.begin(), p.baseline.t.back());
    p.load.x.insert(p.load.x.begin(), p.baseline.x.back());
  }
  return p;
}

double median_of(const std::vector<double>& v, size_t from, size_t to) {
  to = std::min(to, v.size());
  if (from >= to) return NAN;
  return median(std::span<const double>(v.data() + from, to - from));
}

// Level of the first and of the last third of a window (at least one point each).
double first_level(const Window& w) {
  return median_of(w.x, 0, std::max<size_t>(1, w.x.size() / 3));
}
double last_level(const Window& w) {
  return median_of(w.x, w.x.size() - std::max<size_t>(1, w.x.size() / 3), w.x.size());
}

// The whole-run test for growth that does not follow the load (see the essay above). Returns the
// growth from the start of the baseline to the end of the cooldown, or 0 when it does not hold.
double steady_growth(const SeriesView& s, const Phases& p, double floor, const JudgeOptions& o) {
  if (p.baseline.x.size() < 3 || p.cooldown.x.size() < 3) return 0;
  std::vector<double> all;
  for (size_t i = 0; i < s.x.size(); ++i)
    if (!std::isnan(s.x[i])) all.push_back(s.x[i]);
  double growth = last_level(p.cooldown) - first_level(p.baseline);
  double idle_rise = last_level(p.cooldown) - first_level(p.cooldown);
  if (growth < floor || idle_rise < floor / 2) return 0;
  if (mann_kendall(all).p >= o.alpha) return 0;
  if (mann_kendall(p.baseline.x).p >= o.late_alpha || mann_kendall(p.cooldown.x).p >= o.late_alpha)
    return 0;
  return growth;
}

// The evidence a reason states, read off the load window, so that a reason never says what the
// series does not show (issue 17): "still growing at the end" only while its last part (the last
// quarter of the load, at least five snapshots) still rises; "stayed flat" only while the second
// half stays within the floor.
struct Shape {
  bool rising_at_end = false;  // the last part's Theil-Sen slope and its level both rise
  size_t flat_tail = 0;        // the longest suffix within half a floor
  bool late_flat = false;      // the second half within one floor
};

Shape shape_of(const Window& w, size_t half, double floor) {
  Shape s;
  const size_t n = w.x.size();
  if (n == 0) return s;
  const size_t m = std::min(n, std::max<size_t>(5, n / 4));
  Window tail = slice(w, n - m, n);
  s.rising_at_end =
      m >= 2 && theil_sen_slope(tail.t, tail.x) > 0 && last_level(tail) > first_level(tail);
  double lo = w.x.back(), hi = w.x.back();
  for (size_t i = n; i-- > 0;) {
    lo = std::min(lo, w.x[i]);
    hi = std::max(hi, w.x[i]);
    if (hi - lo > floor / 2) break;
    s.flat_tail = n - i;
  }
  auto [mn, mx] = std::minmax_element(w.x.begin() + static_cast<std::ptrdiff_t>(half), w.x.end());
  s.late_flat = half < n && *mx - *mn <= floor;
  return s;
}

// "did not come back" when (nearly) nothing did, else what share stayed.
std::string kept_reason(double returned) {
  if (std::isnan(returned)) return "";
  return returned <= 0.1 ? "did not come back in cooldown" : "most of it stayed in cooldown";
}

}  // namespace

double noise_floor(Signal signal, double level, double baseline, double sampling_rate) {
  level = std::max(level, 0.0);
  switch (signal) {
    case Signal::kHeap:
    case Signal::kMmap: {
      if (sampling_rate <= 1) return signal == Signal::kHeap ? 64 * 1024.0 : 256 * 1024.0;
      double r = sampling_rate;
      return std::max(4 * r, 3 * std::sqrt(std::max(level, r) * r));
    }
    case Signal::kRss:
      return std::max(4.0 * 1024 * 1024, 0.05 * std::max(baseline, 0.0));
    case Signal::kThreads:
    case Signal::kFds:
    case Signal::kGoroutines:
    case Signal::kMetrics:
      return std::max(4.0, 0.1 * std::max(baseline, 0.0));
  }
  return 0;
}

Judgement judge(const SeriesView& series, double floor, const JudgeOptions& o) {
  Judgement j;
  Phases p = split(series);
  const Window& w = p.load;
  const size_t n = w.x.size();
  if (n < 2) {
    j.verdict = Verdict::kInconclusive;
    j.reason = "too few snapshots under load";
    return j;
  }
  const size_t k = std::max<size_t>(2, n / 5);
  j.start_level = p.baseline.x.empty() ? median_of(w.x, 0, k) : median(p.baseline.x);
  j.end_level = median_of(w.x, n - std::min(k, n), n);
  j.growth = j.end_level - j.start_level;
  j.load_s = w.t.back() - w.t.front();
  j.watch = p.baseline.x.empty() && p.cooldown.x.empty();
  j.growth_per_s = theil_sen_slope(w.t, w.x);
  MannKendall mk = mann_kendall(w.x);
  j.p_load = mk.p;

  const size_t half = n / 2;
  Window late = slice(w, half, n);
  j.p_late = mann_kendall(late.x).p;
  double mid_level = median_of(w.x, half >= k ? half - k : 0, half);
  double late_growth = j.end_level - mid_level;
  // A series that only ever accumulates (never a step down, and many steps up) is not the random
  // walk of a turning structure the whole floor guards against: half a floor suffices for it.
  size_t ups = 0, downs = 0;
  for (size_t i = 1; i < n; ++i) (w.x[i] > w.x[i - 1] ? ups : downs) += w.x[i] != w.x[i - 1];
  const bool accumulates = downs == 0 && ups >= 8;
  bool sustained = j.p_late < o.late_alpha && late_growth >= o.late_share * j.growth &&
                   late_growth >= (accumulates ? floor / 2 : floor);

  if (!p.cooldown.x.empty() && j.growth > 0) {
    const auto& c = p.cooldown.x;
    double cool_level = median_of(c, c.size() / 2, c.size());
    j.returned = (j.end_level - cool_level) / j.growth;
  }
  bool kept = std::isnan(j.returned) || j.returned < o.returned_max;

  auto g_of = [](double growth, double fl) { return growth > 0 ? 1 - std::exp(-growth / fl) : 0; };
  double g = g_of(j.growth, floor);
  double r = std::isnan(j.returned) ? 0.8 : std::clamp(1 - std::max(0.0, j.returned), 0.0, 1.0);
  double leak_confidence = (1 - j.p_load) * (1 - j.p_late) * g * r;
  j.worth_showing = j.growth >= floor;

  auto decide = [&](Verdict v, std::string reason) {
    j.verdict = v;
    j.reason = std::move(reason);
    j.confidence = v == Verdict::kLeak ? leak_confidence : 1 - leak_confidence;
    return j;
  };
  if (double g = steady_growth(series, p, floor, o); g > 0) {
    j.steady = true;
    j.growth = g;
    j.start_level = first_level(p.baseline);
    j.end_level = last_level(p.cooldown);
    j.load_s = p.cooldown.t.back() - p.baseline.t.front();
    j.worth_showing = true;
    leak_confidence = (1 - j.p_load) * g_of(g, floor) * 0.9;
    return decide(Verdict::kLeak,
                  "grew in baseline, under load and in cooldown alike: not driven by the load");
  }
  if (j.growth < floor) return decide(Verdict::kNoLeak, "within the noise floor");
  const Shape shape = shape_of(w, half, floor);
  j.rising_at_end = shape.rising_at_end;
  j.flat_tail = shape.flat_tail;
  const std::string stalled =
      shape.flat_tail >= 3 ? "grew, then stayed flat (within half the noise floor) for its last " +
                                 std::to_string(shape.flat_tail) + " snapshots"
                           : std::string("grew, but its last part did not rise");
  const bool rank_test_weak = n < o.min_points || mk.p >= o.alpha;
  if (series.exact && rank_test_weak && !p.cooldown.x.empty() && kept && n >= 3 &&
      j.growth >= o.exact_floors * floor && late_growth >= floor &&
      late_growth >= o.late_share * j.growth) {
    leak_confidence = g_of(j.growth, floor) * r;
    return decide(Verdict::kLeak, std::string("an exact count: rose under load, ") +
                                      (shape.rising_at_end ? "still rising at its end, and "
                                                           : "through its second half, and ") +
                                      kept_reason(j.returned));
  }
  if (n < o.min_points && kept)
    return decide(Verdict::kInconclusive, "too few snapshots under load to tell a trend");
  if (mk.p >= o.alpha) return decide(Verdict::kNoLeak, "no consistent trend under load");
  if (!sustained) {
    if (shape.late_flat) return decide(Verdict::kNoLeak, "filled, then stayed flat under load");
    if (late_growth <= 0)
      return decide(Verdict::kNoLeak, "rose early under load, then its second half did not rise");
    if (late_growth < (accumulates ? floor / 2 : floor))
      return decide(Verdict::kNoLeak,
                    "rose early under load; its second half rose less than the noise floor");
    if (j.p_late >= o.late_alpha)
      return decide(Verdict::kNoLeak,
                    "rose early under load; its second half had no consistent "
                    "trend");
    return decide(Verdict::kNoLeak,
                  "most of its growth came early under load; the second half added under a "
                  "quarter");
  }
  if (!kept)
    return decide(Verdict::kNoLeak,
                  j.returned >= 0.9 ? "came back in cooldown" : "most of it came back in cooldown");
  if (std::isnan(j.returned))
    return decide(Verdict::kLeak, shape.rising_at_end ? "still growing at the end" : stalled);
  return decide(Verdict::kLeak, kept_reason(j.returned));
}

std::string human(double value, const char* unit) {
  char buf[64];
  std::string u = unit;
  if (u != "bytes") {
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = std::fabs(value);
  int i = 0;
  while (v >= 1024 && i < 4) {
    v /= 1024;
    ++i;
  }
  if (i == 0)
    std::snprintf(buf, sizeof buf, "%s%.0f B", value < 0 ? "-" : "", v);
  else
    std::snprintf(buf, sizeof buf, "%s%.*f %s", value < 0 ? "-" : "", v < 10 ? 1 : 0, v, kUnits[i]);
  return buf;
}

std::string format_p(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", p);
  return buf;
}

}  // namespace leakscope::analysis
