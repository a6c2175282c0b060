// Fleet mode's first stage on synthetic series: the shapes of tests/fleet/gen_history.py, one at
// a time, each with a fixed seed (deterministic), and a small fleet judged as a whole.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "core/fleet/fleet.h"

namespace leakscope::fleet {
namespace {

constexpr double kMiB = 1024 * 1024;
constexpr double kDay = 86400, kStep = 60, kT0 = 1.7e9;

using Shape = std::function<double(double t)>;

Series make(const Shape& f, double noise, unsigned seed, double span = kDay) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, noise);
  Series s;
  for (double t = 0; t <= span; t += kStep) {
    s.t.push_back(kT0 + t);
    s.x.push_back(f(t) * (1 + n(rng)));
  }
  return s;
}

SignalVerdict judge_rss(const Series& s, const std::vector<Restart>& restarts = {}) {
  Options o;
  o.window_s = kDay;
  return judge_series("process_resident_memory_bytes", analysis::Signal::kRss, s, restarts, o);
}

TEST(FleetJudge, SteadyIsNoLeak) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    auto v = judge_rss(make([](double) { return 200 * kMiB; }, 0.02, seed));
    EXPECT_EQ(v.verdict, analysis::Verdict::kNoLeak) << seed << ": " << v.evidence;
  }
}

TEST(FleetJudge, GcWavesAreNoLeak) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    double period = 1800 + 600 * seed, phase = seed;
    auto v = judge_rss(make(
        [&](double t) {
          return 200 * kMiB * (1 + 0.25 * std::sin(2 * M_PI * t / (period * 4) + phase)) +
                 60 * kMiB * std::fmod(t, period / 7) / (period / 7);
        },
        0.02, seed));
    EXPECT_EQ(v.verdict, analysis::Verdict::kNoLeak) << seed << ": " << v.evidence;
  }
}

TEST(FleetJudge, SlowLeakIsALeak) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    // 150 MiB a day over 200 MiB, under GC waves.
    auto v = judge_rss(make(
        [](double t) {
          return 200 * kMiB + 150 * kMiB * t / kDay + 30 * kMiB * std::fmod(t, 300) / 300;
        },
        0.02, seed));
    EXPECT_EQ(v.verdict, analysis::Verdict::kLeak) << seed << ": " << v.evidence;
    EXPECT_NEAR(v.growth_per_s * kDay, 150 * kMiB, 30 * kMiB);
  }
}

// Climbs to 512 MiB, restarts at 150 MiB, climbs again: every ~45 minutes.
InstanceData oom_loop(unsigned seed) {
  InstanceData d;
  d.instance = "10.0.0.1:8080";
  double life = 2700, started = kT0 - 100;
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 0.02);
  for (double t = 0; t <= kDay; t += kStep) {
    double up = std::fmod(t, life);
    if (t > 0 && up < kStep) started = kT0 + t - up;
    d.start_time.t.push_back(kT0 + t);
    d.start_time.x.push_back(started);
    auto& s = d.families["process_resident_memory_bytes"];
    s.t.push_back(kT0 + t);
    s.x.push_back((150 * kMiB + 362 * kMiB * up / life) * (1 + n(rng)));
  }
  d.limit_bytes = 512 * kMiB;
  return d;
}

TEST(FleetJudge, OomRestartSawtoothIsALeak) {
  InstanceData d = oom_loop(3);
  auto restarts = find_restarts(d);
  EXPECT_EQ(restarts.size(), 32u);  // 86400 / 2700
  ASSERT_FALSE(restarts.empty());
  EXPECT_NEAR(restarts[1].uptime_s, 2700, 1);
  auto v = judge_rss(d.families["process_resident_memory_bytes"], restarts);
  EXPECT_EQ(v.verdict, analysis::Verdict::kLeak) << v.evidence;
  EXPECT_TRUE(v.sawtooth);
  // Without the restarts it is only a wave: the trend test alone would miss it.
  auto blind = judge_rss(d.families["process_resident_memory_bytes"]);
  EXPECT_NE(blind.verdict, analysis::Verdict::kLeak) << blind.evidence;
}

TEST(FleetJudge, RestartsOfASteadyProcessAreNoLeak) {
  InstanceData d;
  d.instance = "10.0.0.2:8080";
  Series rss = make([](double) { return 200 * kMiB; }, 0.02, 5);
  double started = kT0 - 500;
  for (double t : rss.t) {
    if (t - kT0 > 20000 && started < kT0 + 20000) started = t;
    if (t - kT0 > 60000 && started < kT0 + 60000) started = t;
    d.start_time.t.push_back(t);
    d.start_time.x.push_back(started);
  }
  auto restarts = find_restarts(d);
  EXPECT_EQ(restarts.size(), 2u);
  auto v = judge_rss(rss, restarts);
  EXPECT_EQ(v.verdict, analysis::Verdict::kNoLeak) << v.evidence;
}

TEST(FleetJudge, ARestartCounterStandsInForTheStartTime) {
  InstanceData d = oom_loop(5);
  InstanceData counted = d;
  counted.start_time = {};
  counted.restart_count = {};
  double restarts = 0;
  for (size_t i = 0; i < d.start_time.x.size(); ++i) {
    if (i > 0 && d.start_time.x[i] > d.start_time.x[i - 1] + 2) ++restarts;
    counted.restart_count.t.push_back(d.start_time.t[i]);
    counted.restart_count.x.push_back(restarts);
  }
  auto from_counter = find_restarts(counted);
  EXPECT_EQ(from_counter.size(), find_restarts(d).size());
  auto v = judge_rss(counted.families["process_resident_memory_bytes"], from_counter);
  EXPECT_EQ(v.verdict, analysis::Verdict::kLeak) << v.evidence;
  EXPECT_TRUE(v.sawtooth);
}

TEST(FleetJudge, AnInstanceWithTooFewPointsIsInconclusive) {
  InstanceData d;
  d.instance = "10.0.0.3:8080";
  d.job = "api";
  Series& s = d.families["process_resident_memory_bytes"];
  for (int i = 0; i < 3; ++i) {
    s.t.push_back(kT0 + 60 * i);
    s.x.push_back(100 * kMiB * (1 + i));
  }
  Options o;
  o.window_s = kDay;
  FleetReport r = judge_fleet({d}, {}, o);
  ASSERT_EQ(r.instances.size(), 1u);
  EXPECT_EQ(r.instances[0].verdict, analysis::Verdict::kInconclusive) << r.instances[0].evidence;
  EXPECT_FALSE(any_leak(r));
}

TEST(FleetJudge, ALeakThatStartsMidWindowIsALeak) {
  for (unsigned seed = 1; seed <= 10; ++seed) {
    auto v = judge_rss(
        make([](double t) { return 200 * kMiB + 100 * kMiB * std::max(0.0, t - kDay / 2) / kDay; },
             0.02, seed));
    EXPECT_EQ(v.verdict, analysis::Verdict::kLeak) << seed << ": " << v.evidence;
  }
}

TEST(FleetJudge, CacheThatFillsIsNoLeak) {
  auto v = judge_rss(make(
      [](double t) { return 200 * kMiB + 100 * kMiB * std::min(1.0, t / (3 * 3600)); }, 0.02, 9));
  EXPECT_EQ(v.verdict, analysis::Verdict::kNoLeak) << v.evidence;
}

TEST(FleetJudge, ThinKeepsTheTrendAndBoundsThePoints) {
  Series s = make([](double t) { return t; }, 0, 1);
  Series th = thin(s, 100);
  EXPECT_LE(th.x.size(), 100u);
  EXPECT_GE(th.x.size(), 95u);
  for (size_t i = 1; i < th.x.size(); ++i) EXPECT_GT(th.x[i], th.x[i - 1]);
}

TEST(FleetJudge, FleetNamesOnlyTheLeakersWithKindsRestartsAndTimeToLimit) {
  std::vector<InstanceData> fleet;
  std::vector<FamilyCount> counts;
  for (int i = 0; i < 12; ++i) {
    InstanceData d;
    d.instance = "10.0.0." + std::to_string(10 + i) + ":8080";
    d.job = "api";
    double base = (150 + 5 * i) * kMiB;
    d.families["process_resident_memory_bytes"] = make([&](double) { return base; }, 0.02, i + 1);
    d.families["go_goroutines"] = make([](double) { return 50; }, 0.05, i + 100);
    if (i == 3)
      d.families["go_goroutines"] = make([](double t) { return 50 + 400 * t / kDay; }, 0.05, 7);
    if (i == 5) {
      d.families["process_resident_memory_bytes"] =
          make([&](double t) { return base + 200 * kMiB * t / kDay; }, 0.02, 8);
      d.limit_bytes = 1024 * kMiB;
    }
    FamilyCount c;
    c.family = "http_requests_by_path_total";
    c.instance = d.instance;
    c.job = "api";
    c.count = make([&](double t) { return i == 7 ? 3 + std::floor(200 * t / kDay) : 3.0; }, 0, 1);
    counts.push_back(c);
    fleet.push_back(std::move(d));
  }
  fleet.push_back(oom_loop(4));
  fleet.back().job = "api";
  fleet.back().instance = "10.0.0.99:8080";

  Options o;
  o.window_s = kDay;
  o.end_s = kT0 + kDay;
  FleetReport r = judge_fleet(fleet, counts, o);
  std::map<std::string, const InstanceVerdict*> by;
  for (const auto& v : r.instances) by[v.instance] = &v;
  for (const auto& v : r.instances) {
    bool leaks = v.instance == "10.0.0.13:8080" || v.instance == "10.0.0.15:8080" ||
                 v.instance == "10.0.0.17:8080" || v.instance == "10.0.0.99:8080";
    EXPECT_EQ(v.verdict == analysis::Verdict::kLeak, leaks) << v.instance << ": " << v.evidence;
  }
  EXPECT_EQ(by["10.0.0.13:8080"]->kinds, std::vector<std::string>{"goroutines"});
  EXPECT_EQ(by["10.0.0.15:8080"]->kinds, std::vector<std::string>{"rss"});
  EXPECT_EQ(by["10.0.0.17:8080"]->kinds, std::vector<std::string>{"metrics"});
  ASSERT_EQ(by["10.0.0.17:8080"]->sites.size(), 1u);
  EXPECT_EQ(by["10.0.0.17:8080"]->sites[0].function, "http_requests_by_path_total");
  EXPECT_EQ(by["10.0.0.99:8080"]->kinds, std::vector<std::string>{"rss"});
  EXPECT_EQ(by["10.0.0.99:8080"]->restarts.size(), 32u);
  ASSERT_TRUE(by["10.0.0.99:8080"]->time_to_limit_s.has_value());
  EXPECT_LT(*by["10.0.0.99:8080"]->time_to_limit_s, 2700);
  // 200 MiB a day from about 355 MiB to 1 GiB: a bit over three days.
  ASSERT_TRUE(by["10.0.0.15:8080"]->time_to_limit_s.has_value());
  EXPECT_NEAR(*by["10.0.0.15:8080"]->time_to_limit_s / kDay, 3.3, 0.5);
  EXPECT_GT(by["10.0.0.15:8080"]->peer_ratio, o.peer_factor);
  ASSERT_FALSE(r.metrics.empty());
  EXPECT_EQ(r.metrics[0].family, "http_requests_by_path_total");
  EXPECT_EQ(r.metrics[0].verdict, analysis::Verdict::kLeak);
  EXPECT_EQ(r.metrics[0].series_start, 36);
  EXPECT_EQ(r.metrics[0].series_end, 236);
  EXPECT_EQ(r.instances.front().verdict, analysis::Verdict::kLeak);  // suspects first
  EXPECT_TRUE(any_leak(r));
  std::string json = to_json(r);
  EXPECT_NE(json.find("\"schema\": \"leakscope.fleet/v1\""), std::string::npos);
}

}  // namespace
}  // namespace leakscope::fleet
