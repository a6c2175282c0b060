// analyze() on whole synthetic runs: sites built with SiteSeriesBuilder, totals, retention,
// forecasts, suppressions and the order of findings.
#include "core/analysis/analysis.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace leakscope::analysis {
namespace {

constexpr double kMiB = 1024.0 * 1024;

Frame fn(std::string name) {
  Frame f;
  f.function = std::move(name);
  return f;
}

// 5 s baseline, 20 s load, 10 s cooldown, one snapshot a second.
RunSeries make_run() {
  RunSeries r;
  for (int i = 0; i < 35; ++i) {
    r.t_s.push_back(i);
    r.phase.push_back(i < 5 ? Phase::kBaseline : i < 25 ? Phase::kLoad : Phase::kCooldown);
  }
  r.sampling_rate = 64 * 1024;
  return r;
}

// Level of a leak growing 1 MiB/s under load, flat after.
double leak_at(size_t i) { return std::clamp(static_cast<double>(i) - 4, 0.0, 20.0) * kMiB; }

RunSeries leaky_run() {
  RunSeries r = make_run();
  SiteSeriesBuilder b(r.t_s.size());
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    b.add(i, Signal::kHeap, {fn("malloc"), fn("leak_append"), fn("main")}, leak_at(i));
    b.add(i, Signal::kHeap, {fn("malloc"), fn("steady"), fn("main")}, 8 * kMiB);
    // A cache that fills in 3 s of load and then stays.
    b.add(i, Signal::kHeap, {fn("operator new"), fn("cache_put"), fn("main")},
          std::clamp(static_cast<double>(i) - 4, 0.0, 3.0) * 2 * kMiB);
  }
  r.sites = b.finish();
  return r;
}

// Metric families: one labelled by raw URL (a new series per request, 50 a second under load),
// one by registered route (9 series, all there within the first second of load), a gauge (1
// series), and a scrape that failed (NaN) in the middle of the load.
RunSeries metrics_run() {
  RunSeries r = make_run();
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    double load_s = std::clamp(static_cast<double>(i) - 4, 0.0, 20.0);
    r.metric_families["by_path_total"].push_back(3 + 50 * load_s);
    r.metric_families["by_route_total"].push_back(load_s > 0 ? 10 : 1);
    r.metric_families["go_goroutines"].push_back(1);
  }
  r.metric_families["by_path_total"][12] = NAN;
  return r;
}

TEST(Analyze, NamesTheLeakAndShowsTheCache) {
  Analysis a = analyze(leaky_run());
  EXPECT_EQ(a.verdict, Verdict::kLeak);
  ASSERT_GE(a.findings.size(), 2u);
  EXPECT_EQ(a.findings[0].verdict, Verdict::kLeak);
  EXPECT_EQ(a.findings[0].site.function, "leak_append");
  EXPECT_EQ(a.findings[0].kind, Signal::kHeap);
  EXPECT_NEAR(a.findings[0].growth_per_s, kMiB, 0.05 * kMiB);
  EXPECT_NE(a.findings[0].evidence.find("did not come back"), std::string::npos);
  bool cache_seen = false;
  for (const Finding& f : a.findings) {
    EXPECT_NE(f.site.function, "steady");  // never grew: not worth showing
    if (f.site.function == "cache_put") {
      cache_seen = true;
      EXPECT_EQ(f.verdict, Verdict::kNoLeak);
    }
  }
  EXPECT_TRUE(cache_seen);
  EXPECT_NE(a.summary.find("leak_append"), std::string::npos);
}

// Named by a frame of its stack, or a metrics finding by its family.
TEST(Analyze, SuppressedLeakDoesNotCount) {
  for (const char* pattern : {"leak_append", "^by_path_total$"}) {
    AnalysisOptions o;
    o.suppressions.patterns = {pattern};
    bool metric = pattern[0] == '^';
    Analysis a = analyze(metric ? metrics_run() : leaky_run(), o);
    EXPECT_EQ(a.verdict, Verdict::kNoLeak) << pattern;
    ASSERT_FALSE(a.findings.empty());
    EXPECT_TRUE(a.findings.back().suppressed) << pattern;
    EXPECT_EQ(a.findings.back().metric, metric ? "by_path_total" : "");
  }
}

TEST(Analyze, ForecastsTimeToLimit) {
  RunSeries r = leaky_run();
  r.limit_bytes = 100 * kMiB;
  r.totals[Signal::kRss] = std::vector<double>(r.t_s.size(), 60 * kMiB);
  Analysis a = analyze(r);
  ASSERT_TRUE(a.findings[0].forecast_s_to_limit.has_value());
  EXPECT_NEAR(*a.findings[0].forecast_s_to_limit, 40, 3);  // 40 MiB left at 1 MiB/s
}

TEST(Analyze, RetentionWhenHeapCameBackButRssDidNot) {
  RunSeries r = make_run();
  std::vector<double> heap, rss;
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    bool load = r.phase[i] == Phase::kLoad;
    heap.push_back(load ? 10 * kMiB + leak_at(i) : 10 * kMiB);
    rss.push_back(50 * kMiB + leak_at(i));
  }
  r.totals[Signal::kHeap] = heap;
  r.totals[Signal::kRss] = rss;
  r.sites.push_back(SiteSeries{Signal::kHeap, {fn("malloc"), fn("work")}, 1, heap});
  Analysis a = analyze(r);
  EXPECT_EQ(a.verdict, Verdict::kRetention);
  ASSERT_FALSE(a.findings.empty());
  EXPECT_EQ(a.findings[0].kind, Signal::kRss);
  EXPECT_NE(a.findings[0].evidence.find("MALLOC_TRIM_THRESHOLD_"), std::string::npos);
}

// Go: goroutines leaked under load hold their stacks outside the heap profile, so RSS stays up
// while the heap came back. That is explained by the goroutine leak, not "retention, set
// GOMEMLIMIT".
TEST(Analyze, NoRetentionWhenLeakedGoroutinesExplainRss) {
  RunSeries r = make_run();
  r.go_runtime = true;
  std::vector<double> heap, rss, goroutines;
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    bool load = r.phase[i] == Phase::kLoad;
    heap.push_back(load ? 10 * kMiB + leak_at(i) : 10 * kMiB);
    rss.push_back(50 * kMiB + leak_at(i));
    goroutines.push_back(10 + leak_at(i) / kMiB * 100);
  }
  r.totals[Signal::kHeap] = heap;
  r.totals[Signal::kRss] = rss;
  r.sites.push_back(SiteSeries{Signal::kHeap, {fn("runtime.malg"), fn("main.work")}, 1, heap});
  r.sites.push_back(
      SiteSeries{Signal::kGoroutines, {fn("main.parked"), fn("main.handler")}, 0, goroutines});
  Analysis a = analyze(r);
  EXPECT_EQ(a.verdict, Verdict::kLeak);
  for (const Finding& f : a.findings) {
    EXPECT_NE(f.verdict, Verdict::kRetention) << f.evidence;
    EXPECT_EQ(f.evidence.find("GOMEMLIMIT"), std::string::npos) << f.evidence;
  }
  ASSERT_FALSE(a.notes.empty());
  EXPECT_NE(a.notes.back().find("the goroutines leaked above hold memory outside the heap"),
            std::string::npos)
      << a.notes.back();
}

// The headline names a function once, however many of its lines leak (an object and its string),
// and without a long parameter list; a signal without stacks is "(whole process, no stacks)".
TEST(Analyze, HeadlineNamesAFunctionOnce) {
  const std::string fat =
      "Registry::remember(std::__cxx11::basic_string<char, std::char_traits<char>, "
      "std::allocator<char> > const&, Request const&)";
  RunSeries r = make_run();
  SiteSeriesBuilder b(r.t_s.size());
  for (size_t i = 0; i < r.t_s.size(); ++i)
    for (int64_t line : {10, 12}) {
      Frame site = fn(fat);
      site.line = line;
      b.add(i, Signal::kHeap, {fn("malloc"), site, fn("main")}, leak_at(i));
    }
  r.sites = b.finish();
  std::vector<double> fds;
  for (size_t i = 0; i < r.t_s.size(); ++i) fds.push_back(10 + leak_at(i) / kMiB * 5);
  r.totals[Signal::kFds] = fds;
  Analysis a = analyze(r);
  ASSERT_EQ(a.verdict, Verdict::kLeak);
  EXPECT_EQ(a.summary.rfind("2 leaks under load: ", 0), 0u) << a.summary;
  EXPECT_NE(a.summary.find("Registry::remember(...) (heap, +"), std::string::npos) << a.summary;
  EXPECT_NE(a.summary.find("(whole process, no stacks) (fds, +"), std::string::npos) << a.summary;
  EXPECT_EQ(a.summary.find("Registry::remember", a.summary.find("Registry::remember") + 1),
            std::string::npos)
      << a.summary;
}

// One function allocating on two lines (an object and its string): one finding, leak, the lines
// listed, not a LEAK card beside a NO-LEAK card whose own chart rises. The same helper reached
// from two callers (a leak and a cache) stays two findings.
TEST(Analyze, LinesOfOneFunctionAreOneFinding) {
  RunSeries r = make_run();
  SiteSeriesBuilder b(r.t_s.size());
  auto at = [](std::string name, int64_t line) {
    Frame f = fn(std::move(name));
    f.file = "registry.cc";
    f.line = line;
    return f;
  };
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    b.add(i, Signal::kHeap, {fn("malloc"), at("remember", 10), fn("handle")}, leak_at(i));
    // The string: a tenth as big, and noisy.
    double noise = (i % 3 == 0 ? 0.3 : -0.2) * kMiB;
    b.add(i, Signal::kHeap, {fn("malloc"), at("remember", 12), fn("handle")},
          std::max(0.0, leak_at(i) / 10 + noise));
    b.add(i, Signal::kHeap, {fn("malloc"), at("make_record", 5), fn("leaky_caller")}, leak_at(i));
    b.add(i, Signal::kHeap, {fn("malloc"), at("make_record", 5), fn("cache_fill")},
          std::clamp(static_cast<double>(i) - 4, 0.0, 3.0) * kMiB);
  }
  r.sites = b.finish();
  Analysis a = analyze(r);
  int remember = 0, make_record = 0;
  for (const Finding& f : a.findings) {
    if (f.site.function == "remember") {
      ++remember;
      EXPECT_EQ(f.verdict, Verdict::kLeak);
      EXPECT_EQ(f.site.line, 10);
      EXPECT_EQ(f.evidence.rfind("lines 10 (+", 0), 0u) << f.evidence;
      EXPECT_NE(f.evidence.find("), 12 (+"), std::string::npos) << f.evidence;
      EXPECT_NE(f.evidence.find("of remember are one finding"), std::string::npos) << f.evidence;
      EXPECT_GT(f.growth, 19 * kMiB);  // the object's ~18 MiB and the string's ~2
    }
    if (f.site.function == "make_record") ++make_record;
  }
  EXPECT_EQ(remember, 1);
  EXPECT_EQ(make_record, 2);  // a leak and a cache: two callers, two findings
}

TEST(Analyze, ProcOnlyRunJudgesTotals) {
  RunSeries r = make_run();
  std::vector<double> fds, rss;
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    fds.push_back(10 + std::clamp(static_cast<double>(i) - 4, 0.0, 20.0) * 5);
    rss.push_back(50 * kMiB);
  }
  r.totals[Signal::kFds] = fds;
  r.totals[Signal::kRss] = rss;
  Analysis a = analyze(r);
  EXPECT_EQ(a.verdict, Verdict::kLeak);
  EXPECT_EQ(a.findings[0].kind, Signal::kFds);
  EXPECT_TRUE(a.findings[0].site.function.empty());
  ASSERT_EQ(a.notes.size(), 1u);
  EXPECT_EQ(a.notes[0], "no stacks: /proc figures only");
}

TEST(Analyze, AllocatorArenaMmapIsRetentionNotLeak) {
  // jemalloc maps extents under load and keeps them; the heap itself came back.
  RunSeries r = make_run();
  Frame jemalloc = fn("0x7f0012345678");
  jemalloc.mapping = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
  std::vector<double> mmap_bytes, heap;
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    mmap_bytes.push_back(leak_at(i));
    heap.push_back(r.phase[i] == Phase::kLoad ? leak_at(i) : 0);
  }
  r.totals[Signal::kHeap] = heap;
  r.sites.push_back(
      SiteSeries{Signal::kMmap, {fn("mmap"), jemalloc, fn("zrealloc")}, 2, mmap_bytes});
  Analysis a = analyze(r);
  EXPECT_EQ(a.verdict, Verdict::kRetention);
  ASSERT_FALSE(a.findings.empty());
  EXPECT_EQ(a.findings[0].kind, Signal::kMmap);
  EXPECT_EQ(a.findings[0].verdict, Verdict::kRetention);
}

TEST(Analyze, QuietRunIsNoLeak) {
  RunSeries r = make_run();
  r.totals[Signal::kRss] = std::vector<double>(r.t_s.size(), 50 * kMiB);
  r.totals[Signal::kThreads] = std::vector<double>(r.t_s.size(), 4);
  Analysis a = analyze(r);
  EXPECT_EQ(a.verdict, Verdict::kNoLeak);
  EXPECT_TRUE(a.findings.empty());
}

TEST(Analyze, UnboundedMetricFamilyIsALeakBoundedOneIsNot) {
  Analysis a = analyze(metrics_run());
  EXPECT_EQ(a.verdict, Verdict::kLeak);
  ASSERT_FALSE(a.findings.empty());
  const Finding& f = a.findings[0];
  EXPECT_EQ(f.kind, Signal::kMetrics);
  EXPECT_EQ(f.verdict, Verdict::kLeak);
  EXPECT_EQ(f.metric, "by_path_total");
  EXPECT_TRUE(f.site.function.empty());
  EXPECT_TRUE(f.stack.empty());
  EXPECT_NEAR(f.growth, 925, 1);  // the median of the load's last fifth minus the baseline's
  EXPECT_NEAR(f.growth_per_s, 50, 1);
  EXPECT_NE(f.evidence.find("metric family by_path_total: 3 -> "), std::string::npos) << f.evidence;
  EXPECT_NE(f.evidence.find(" series; grew "), std::string::npos) << f.evidence;
  EXPECT_NE(a.summary.find("by_path_total (metrics, +"), std::string::npos) << a.summary;
  for (const Finding& g : a.findings) {
    if (g.metric == "by_route_total") {
      EXPECT_EQ(g.verdict, Verdict::kNoLeak) << g.evidence;
    }
    EXPECT_NE(g.metric, "go_goroutines");  // never grew: not worth showing
  }
}

TEST(Analyze, KeepsOnlyTheTopMetricFamilies) {
  RunSeries r = metrics_run();
  for (int k = 0; k < 5; ++k)
    for (size_t i = 0; i < r.t_s.size(); ++i)
      r.metric_families["user_" + std::to_string(k)].push_back(
          std::clamp(static_cast<double>(i) - 4, 0.0, 20.0) * (k + 1));
  AnalysisOptions o;
  o.max_metric_families = 2;
  Analysis a = analyze(r, o);
  std::vector<std::string> shown;
  for (const Finding& f : a.findings)
    if (f.kind == Signal::kMetrics) shown.push_back(f.metric);
  std::sort(shown.begin(), shown.end());  // the report orders them by confidence
  EXPECT_EQ(shown, (std::vector<std::string>{"by_path_total", "user_4"}));
}

TEST(SiteSeriesBuilder, SumsStacksOfOneSiteAndMarksMissingSnapshots) {
  SiteSeriesBuilder b(3);
  b.add(0, Signal::kHeap, {fn("malloc"), fn("a"), fn("x"), fn("main")}, 1);
  b.add(0, Signal::kHeap, {fn("malloc"), fn("a"), fn("x"), fn("thread_main")}, 2);
  b.add(2, Signal::kHeap, {fn("malloc"), fn("a"), fn("x"), fn("thread_main")}, 5);
  auto s = b.finish();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].values[0], 3);
  EXPECT_TRUE(std::isnan(s[0].values[1]));  // snapshot 1 had no heap profile
  EXPECT_EQ(s[0].values[2], 5);
  EXPECT_EQ(s[0].stack[3].function, "thread_main");
  EXPECT_EQ(s[0].stack[s[0].site].function, "a");
}

TEST(SiteSeriesBuilder, OneHelperCalledFromTwoFunctionsIsTwoSites) {
  // make_record() inlined into both a leak and a cache must not merge them.
  SiteSeriesBuilder b(1);
  b.add(0, Signal::kHeap, {fn("malloc"), fn("make_record"), fn("leak_append")}, 1);
  b.add(0, Signal::kHeap, {fn("malloc"), fn("make_record"), fn("cache_put")}, 2);
  EXPECT_EQ(b.finish().size(), 2u);
}

// The first round's reason says "rose throughout" only when the round's end still rose: here
// the family rises for seven snapshots and is flat for the round's last five.
TEST(Analyze, FirstRoundThatEndedFlatIsNotSaidToRiseThroughout) {
  RunSeries r = make_run();
  r.first_round_end_s = 16;
  for (size_t i = 0; i < r.t_s.size(); ++i)
    r.metric_families["by_path_total"].push_back(1000 *
                                                 std::clamp(static_cast<double>(i) - 5, 0.0, 7.0));
  Analysis a = analyze(r);
  const Finding* f = nullptr;
  for (const Finding& x : a.findings)
    if (x.metric == "by_path_total") f = &x;
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->verdict, Verdict::kLeak) << f->evidence;
  EXPECT_EQ(f->evidence.find("rose throughout"), std::string::npos) << f->evidence;
  EXPECT_NE(f->evidence.find("flat for its last 5 snapshots"), std::string::npos) << f->evidence;
}

}  // namespace
}  // namespace leakscope::analysis

namespace leakscope::analysis {
namespace {

// Issue 17, item 2: Go served Period 524288 though 16 KiB was asked. A site that grew 3 MiB (six
// samples) and kept it is under the floor at 512 KiB, so it cannot be "no leak": inconclusive,
// with the advice, and the run says what the period implies.
TEST(Analyze, CoarserRateThanAskedMakesUnseenGrowthInconclusive) {
  RunSeries r = make_run();
  r.sampling_rate = 512 * 1024;
  r.requested_rate = 16 * 1024;
  SiteSeriesBuilder b(r.t_s.size());
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    double level = i < 5 ? 0 : i < 25 ? (i % 2 ? 3 : 2) * kMiB : 3 * kMiB;  // jumpy, kept
    b.add(i, Signal::kHeap, {fn("runtime.mallocgc"), fn("main.handle"), fn("main.main")}, level);
  }
  r.sites = b.finish();
  Analysis a = analyze(r);
  ASSERT_FALSE(a.findings.empty());
  EXPECT_EQ(a.findings[0].site.function, "main.handle");
  EXPECT_EQ(a.findings[0].verdict, Verdict::kInconclusive);
  EXPECT_NE(a.findings[0].evidence.find("runtime.MemProfileRate"), std::string::npos);
  EXPECT_EQ(a.verdict, Verdict::kInconclusive);
  bool noted = std::any_of(a.notes.begin(), a.notes.end(), [](const std::string& n) {
    return n.find("samples every 512 KiB (asked: 16 KiB)") != std::string::npos;
  });
  EXPECT_TRUE(noted);
  r.requested_rate = 512 * 1024;  // the rate asked: the user chose it, the rule is the usual one
  EXPECT_EQ(analyze(r).verdict, Verdict::kNoLeak);
}

// Rounds replay the same requests: a family keyed by raw path rises through round 1 (3 s of
// load here) and then stays flat; a family of routes fills at once. The first is a leak.
TEST(Analyze, CountKeyedByTheInputIsALeakOnTheFirstRound) {
  RunSeries r = make_run();
  r.first_round_end_s = 8;
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    double in_round1 = std::clamp(static_cast<double>(i) - 5, 0.0, 3.0);
    r.metric_families["by_path_total"].push_back(1000 * in_round1);
    r.metric_families["by_route_total"].push_back(i < 5 ? 0 : 12);
  }
  Analysis a = analyze(r);
  auto verdict_of = [&](const std::string& name) {
    for (const Finding& f : a.findings)
      if (f.metric == name) return f.verdict;
    return Verdict::kNoLeak;
  };
  EXPECT_EQ(verdict_of("by_path_total"), Verdict::kLeak);
  EXPECT_EQ(verdict_of("by_route_total"), Verdict::kNoLeak);
  r.first_round_end_s.reset();  // one long round: a family that filled early and stayed
  EXPECT_EQ(analyze(r).verdict, Verdict::kNoLeak);
}

}  // namespace
}  // namespace leakscope::analysis
