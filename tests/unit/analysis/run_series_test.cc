// RunBuilder: snapshots fed one at a time become the same site series and totals as a
// SiteSeriesBuilder over the whole run; a long run is thinned to a bounded number of points,
// evenly in its older part, with the recent window, the phase boundaries and the end of a round
// kept; and a leak is still found after thinning.
#include "core/analysis/run_series.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace leakscope::analysis {
namespace {

// A symbolized heap profile (lines with line numbers, so the symbolizer leaves them): one sample
// per (function, bytes) pair, each stack malloc <- function <- main.
Profile heap(const std::vector<std::pair<std::string, int64_t>>& sites) {
  Profile p;
  p.sample_types = {{"inuse_objects", "count"}, {"inuse_space", "bytes"}};
  p.period = 1;
  p.mappings.push_back({1, 0x1000, 0x100000, 0, "app", "", true, true, true, false});
  auto function = [&](const std::string& name) {
    for (const Function& f : p.functions)
      if (f.name == name) return f.id;
    uint64_t id = p.functions.size() + 1;
    p.functions.push_back({id, name, name, "app.cc", 1});
    p.locations.push_back({id, 1, 0x1000 + id * 16, {{id, static_cast<int64_t>(id), 0}}, false});
    return id;
  };
  for (const auto& [name, bytes] : sites) {
    Sample s;
    s.location_ids = {function("malloc"), function(name), function("main")};
    s.values = {bytes / 64, bytes};
    p.samples.push_back(s);
  }
  return p;
}

SnapshotIn snapshot(double t, Phase phase, int64_t leak, int64_t rss) {
  SnapshotIn s;
  s.t_s = t;
  s.phase = phase;
  s.profiles[Signal::kHeap] = heap({{"leak_append", leak}, {"steady", 1 << 20}});
  s.rss_bytes = rss;
  s.threads = 4;
  return s;
}

const SiteSeries* site(const RunModel& m, const std::string& function) {
  for (const SiteSeries& s : m.run.sites)
    if (s.stack.size() > s.site && s.stack[s.site].function == function) return &s;
  return nullptr;
}

TEST(RunBuilder, ReducesEachSnapshotToSeries) {
  RunBuilder b;
  for (int i = 0; i < 10; ++i)
    b.add(snapshot(i, i < 3 ? Phase::kBaseline : Phase::kLoad, int64_t{1000} * i, 5000 + i));
  RunModel m = b.finish();
  ASSERT_EQ(m.run.t_s.size(), 10u);
  EXPECT_EQ(m.snapshots, 10u);
  const SiteSeries* leak = site(m, "leak_append");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(leak->values[7], 7000);
  EXPECT_EQ(m.run.totals.at(Signal::kHeap)[7], 7000 + (1 << 20));
  EXPECT_EQ(m.series.at("heap_inuse_bytes")[7], 7000 + (1 << 20));
  EXPECT_EQ(m.series.at("rss_bytes")[9], 5009);
  EXPECT_EQ(m.run.totals.at(Signal::kRss)[9], 5009);
  EXPECT_EQ(m.series.at("threads")[0], 4);
  EXPECT_EQ(m.points[4].files.size(), 0u);
  EXPECT_TRUE(m.has_flame);
  // The baseline's last heap (t = 2) and the last one (t = 9), root first.
  int64_t before = 0, after = 0;
  for (const StackValue& s : m.flame_before)
    if (s.stack[1] == "leak_append") before = s.value;
  for (const StackValue& s : m.flame_final)
    if (s.stack[1] == "leak_append") after = s.value;
  EXPECT_EQ(before, 2000);
  EXPECT_EQ(after, 9000);
}

TEST(RunBuilder, MissingProfileIsAGapNotZero) {
  RunBuilder b;
  b.add(snapshot(0, Phase::kWatch, 100, 1));
  SnapshotIn gap;
  gap.t_s = 1;
  b.add(std::move(gap));
  b.add(snapshot(2, Phase::kWatch, 300, 1));
  RunModel m = b.finish();
  EXPECT_TRUE(std::isnan(site(m, "leak_append")->values[1]));
  EXPECT_TRUE(std::isnan(m.run.totals.at(Signal::kHeap)[1]));
  EXPECT_EQ(site(m, "leak_append")->values[2], 300);
}

TEST(RunBuilder, MetricFamilyFirstSeenLaterIsZeroBeforeWhereScraped) {
  RunBuilder b;
  SnapshotIn a;
  a.metrics = std::map<std::string, int64_t>{{"up", 1}};
  b.add(std::move(a));
  SnapshotIn none;  // scrape failed
  none.t_s = 1;
  b.add(std::move(none));
  SnapshotIn c;
  c.t_s = 2;
  c.metrics = std::map<std::string, int64_t>{{"up", 1}, {"by_path", 5}};
  b.add(std::move(c));
  RunModel m = b.finish();
  const auto& by_path = m.run.metric_families.at("by_path");
  ASSERT_EQ(by_path.size(), 3u);
  EXPECT_EQ(by_path[0], 0);
  EXPECT_TRUE(std::isnan(by_path[1]));
  EXPECT_EQ(by_path[2], 5);
}

TEST(RunBuilder, LongRunIsThinnedEvenlyAndKeepsItsBoundaries) {
  RunBuilderOptions o;
  o.max_points = 200;
  o.recent_points = 50;
  RunBuilder b(o);
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    Phase phase = i < 100 ? Phase::kBaseline : i < 4000 ? Phase::kLoad : Phase::kCooldown;
    b.add(snapshot(i * 0.1, phase, int64_t{4096} * std::clamp(i - 100, 0, 3900), i));
    if (i == 777) b.end_round();
    EXPECT_LE(b.points(), o.max_points);
  }
  RunModel m = b.finish();
  EXPECT_EQ(m.snapshots, static_cast<size_t>(n));
  const auto& t = m.run.t_s;
  ASSERT_GE(t.size(), o.recent_points);
  ASSERT_EQ(site(m, "leak_append")->values.size(), t.size());
  ASSERT_EQ(m.series.at("rss_bytes").size(), t.size());
  // The recent window at full resolution, the first point and every phase boundary kept.
  for (size_t i = t.size() - o.recent_points + 1; i < t.size(); ++i)
    EXPECT_NEAR(t[i] - t[i - 1], 0.1, 1e-9);
  EXPECT_EQ(t.front(), 0);
  for (double boundary : {9.9, 10.0, 399.9, 400.0, 77.7})
    EXPECT_TRUE(std::any_of(t.begin(), t.end(), [&](double x) {
      return std::abs(x - boundary) < 1e-9;
    })) << boundary;
  // Each value still belongs to its time.
  for (size_t i = 0; i < t.size(); ++i)
    EXPECT_NEAR(m.series.at("rss_bytes")[i], t[i] * 10, 1e-6) << i;
  // The load's older part evenly spaced: one stride, but at the kept boundaries.
  std::vector<double> gaps;
  for (size_t i = 1; i + o.recent_points < t.size(); ++i)
    if (m.run.phase[i] == Phase::kLoad && m.run.phase[i - 1] == Phase::kLoad)
      gaps.push_back(t[i] - t[i - 1]);
  std::sort(gaps.begin(), gaps.end());
  ASSERT_FALSE(gaps.empty());
  EXPECT_NEAR(gaps[gaps.size() / 2], gaps.back(), 1e-6);
  // And the leak is still found.
  Analysis a = analyze(m.run);
  EXPECT_EQ(a.verdict, Verdict::kLeak) << a.summary;
}

// The agent's sample budget raises the rate of allocation-heavy threads and says so in a
// comment; the run's sampling rate (its noise floors) is the base rate times the largest raise.
TEST(RunBuilder, TheSampleBudgetsRaiseCoarsensTheSamplingRate) {
  RunBuilder b;
  for (int i = 0; i < 4; ++i) {
    SnapshotIn s = snapshot(i, Phase::kLoad, 1000 * i, 5000);
    Profile& p = s.profiles[Signal::kHeap];
    p.period = 16384;
    if (i == 2)
      p.comments.push_back(
          "leakscope: sample budget: allocation-heavy threads sampled at up to 8 x the rate "
          "(LEAKSCOPE_MAX_SAMPLES_PER_SEC=20000); values are weighted at each sample's own rate");
    b.add(std::move(s));
  }
  RunModel m = b.finish();
  EXPECT_EQ(m.run.sampling_rate, 8 * 16384.0);
  EXPECT_TRUE(m.run.rate_raised_by_budget);

  RunBuilder plain;
  SnapshotIn s = snapshot(0, Phase::kLoad, 0, 5000);
  s.profiles[Signal::kHeap].period = 16384;
  plain.add(std::move(s));
  RunModel n = plain.finish();
  EXPECT_EQ(n.run.sampling_rate, 16384.0);
  EXPECT_FALSE(n.run.rate_raised_by_budget);
}

}  // namespace
}  // namespace leakscope::analysis
