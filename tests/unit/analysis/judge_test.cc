// The decision rule on synthetic runs built with the agent's own noise model: objects are
// sampled with probability 1 - exp(-size/R) and each sample counts size/p bytes. Every test uses
// fixed seeds; the rates asserted over many seeds state their expected value and the bound's
// distance from it.
#include "core/analysis/judge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace leakscope::analysis {
namespace {

constexpr double kKiB = 1024;

// A run of `base` baseline, `load` load and `cool` cooldown snapshots, one per second.
struct SynthRun {
  std::vector<double> t;
  std::vector<Phase> phase;
  // `load_dt`: seconds between load snapshots (run snapshots faster under load).
  SynthRun(int base, int load, int cool, double load_dt = 1) {
    double now = 0;
    for (int i = 0; i < base + load + cool; ++i) {
      t.push_back(now);
      phase.push_back(i < base          ? Phase::kBaseline
                      : i < base + load ? Phase::kLoad
                                        : Phase::kCooldown);
      now += phase.back() == Phase::kLoad ? load_dt : 1;
    }
  }
  Judgement judge_series(const std::vector<double>& x, Signal s, double rate) const {
    double level = 0;
    for (double v : x) level = std::max(level, v);
    bool exact = s != Signal::kHeap && s != Signal::kMmap && s != Signal::kRss;
    return judge(SeriesView{t, x, phase, exact}, noise_floor(s, level, x.front(), rate));
  }
};

// Sampled estimate of `objects` live objects of `size` bytes, drawn afresh (a churning set).
double sample_live(std::mt19937_64& rng, double objects, double size, double rate) {
  double p = 1 - std::exp(-size / rate);
  std::binomial_distribution<int64_t> b(static_cast<int64_t>(objects), p);
  return static_cast<double>(b(rng)) * size / p;
}

// A leak of `per_s` objects of `size` bytes per second under load: samples only accumulate.
std::vector<double> leak_series(std::mt19937_64& rng, const SynthRun& run, double per_s,
                                double size, double rate, double background) {
  double p = 1 - std::exp(-size / rate);
  std::binomial_distribution<int64_t> b(static_cast<int64_t>(per_s), p);
  std::vector<double> x;
  double leaked = 0;
  for (Phase ph : run.phase) {
    if (ph == Phase::kLoad) leaked += static_cast<double>(b(rng)) * size / p;
    x.push_back(leaked + background);
  }
  return x;
}

TEST(Judge, FindsOneKiBPerRequestWithin5000Requests) {
  // 5,000 requests over a 10 s load at 64 KiB (four times the CLI's default rate for run), on top
  // of a churning background of 2 MiB at the same site. Measured detection: 94.9% (949 of 1,000
  // seeds; 1,000 of 1,000 at run's 16 KiB; docs/analysis.md). Over 200 seeds that is 190 +- 3.1
  // expected; the bound 177 is 4.2 sigma below, so the test fails only if the rule got worse.
  SynthRun run(5, 10, 10);
  int found = 0;
  for (int seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<double> x = leak_series(rng, run, 500, kKiB, 64 * kKiB, 0);
    for (double& v : x) v += sample_live(rng, 2048, kKiB, 64 * kKiB);
    Judgement j = run.judge_series(x, Signal::kHeap, 64 * kKiB);
    found += j.verdict == Verdict::kLeak;
  }
  EXPECT_GE(found, 177);
}

TEST(Judge, LeakEvidenceIsFilledIn) {
  SynthRun run(5, 20, 10);
  std::mt19937_64 rng(7);
  std::vector<double> x = leak_series(rng, run, 1000, kKiB, 64 * kKiB, 0);
  Judgement j = run.judge_series(x, Signal::kHeap, 64 * kKiB);
  ASSERT_EQ(j.verdict, Verdict::kLeak);
  EXPECT_NEAR(j.growth_per_s, 1000 * kKiB, 250 * kKiB);
  EXPECT_GT(j.confidence, 0.8);
  EXPECT_LT(j.p_load, 1e-6);
  EXPECT_LT(j.returned, 0.1);
}

TEST(Judge, NoFalsePositivesOnChurningSites) {
  // Pure noise: a site holding a steady 4 MiB of churning 1 KiB objects at the default Go/agent
  // rate of 512 KiB, over 2,000 seeds. The Mann-Kendall step alone passes ~0.1% of them (2
  // expected); the noise floor and the second-half test must stop those. A correct rule gives 0;
  // allowing 1 keeps the test's own false-failure rate below 1e-6.
  SynthRun run(5, 30, 10);
  int leaks = 0;
  for (int seed = 0; seed < 2000; ++seed) {
    std::mt19937_64 rng(1000 + seed);
    std::vector<double> x;
    for (size_t i = 0; i < run.t.size(); ++i) x.push_back(sample_live(rng, 4096, kKiB, 512 * kKiB));
    leaks += run.judge_series(x, Signal::kHeap, 512 * kKiB).verdict == Verdict::kLeak;
  }
  EXPECT_LE(leaks, 1);
}

// A bounded structure whose contents turn over slower than the snapshots: a ring of 256 records
// of 2 KiB (the demo's fixed append-slice), filled at the start of the load, of which `turnover`
// records are replaced between two snapshots (a busy machine serving few requests). Each record
// is sampled with probability p and counts 2 KiB / p, so the estimate wanders around 512 KiB,
// and when few records change per snapshot it wanders like a random walk: consecutive points
// are correlated, which the plain Mann-Kendall test does not allow for.
std::vector<double> slow_ring(std::mt19937_64& rng, const SynthRun& run, int turnover) {
  constexpr int kSlots = 256;
  const double size = 2 * kKiB, rate = 64 * kKiB, p = 1 - std::exp(-size / rate);
  std::bernoulli_distribution sampled(p);
  std::uniform_int_distribution<int> slot(0, kSlots - 1);
  std::vector<bool> ring;
  std::vector<double> x;
  for (Phase ph : run.phase) {
    if (ph == Phase::kLoad) {
      if (ring.empty()) {
        for (int i = 0; i < kSlots; ++i) ring.push_back(sampled(rng));
      } else {
        for (int i = 0; i < turnover; ++i) ring[slot(rng)] = sampled(rng);
      }
    }
    double live = 0;
    for (bool b : ring) live += b ? size / p : 0;
    x.push_back(live);
  }
  return x;
}

TEST(Judge, SlowlyTurningRingIsNotALeak) {
  // Over 1,000 seeds for each of three turnovers (a tenth, a third and all of the ring per
  // snapshot), with the demo runs' 3 s baseline, 15 s load and 6 s cooldown, at 64 KiB. Measured:
  // 0 leaks in 3,000 (1 at 16 KiB). The rule that asked for only half a noise floor of growth in
  // the second half of the load flagged 37 (1.2%): the estimate of a ring that turns over slowly
  // wanders like a random walk, and a walk that drifts up passes both trend tests. Allowing 3
  // keeps this test's own false-failure rate negligible and still fails if that rule comes back.
  SynthRun run(3, 15, 6);
  int leaks = 0;
  for (int turnover : {25, 85, 256}) {
    for (int seed = 0; seed < 1000; ++seed) {
      std::mt19937_64 rng(50000 + seed);
      std::vector<double> x = slow_ring(rng, run, turnover);
      leaks += run.judge_series(x, Signal::kHeap, 64 * kKiB).verdict == Verdict::kLeak;
    }
  }
  EXPECT_LE(leaks, 3);
}

TEST(Judge, SteadyCacheIsNotALeak) {
  // A cache fills during the first quarter of the load, then stays flat under continued load
  // and in cooldown: it rises over the load, but not in its second half.
  SynthRun run(5, 30, 10);
  for (int seed = 0; seed < 50; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<double> x = leak_series(rng, run, 2000, kKiB, 64 * kKiB, 0);
    double full = x[5 + 7];
    for (size_t i = 12; i < x.size(); ++i) x[i] = full;
    Judgement j = run.judge_series(x, Signal::kHeap, 64 * kKiB);
    EXPECT_EQ(j.verdict, Verdict::kNoLeak) << "seed " << seed;
    EXPECT_TRUE(j.worth_showing);
    EXPECT_EQ(j.reason, "filled, then stayed flat under load");
  }
}

TEST(Judge, MemoryThatComesBackInCooldownIsNotALeak) {
  SynthRun run(5, 20, 10);
  std::mt19937_64 rng(3);
  std::vector<double> x = leak_series(rng, run, 1000, kKiB, 64 * kKiB, 0);
  for (size_t i = 25; i < x.size(); ++i) x[i] = 0;  // freed when the load stopped
  Judgement j = run.judge_series(x, Signal::kHeap, 64 * kKiB);
  EXPECT_EQ(j.verdict, Verdict::kNoLeak);
  EXPECT_EQ(j.reason, "came back in cooldown");
  EXPECT_NEAR(j.returned, 1.0, 0.2);
}

TEST(Judge, ShortLoadIsInconclusive) {
  SynthRun run(5, 4, 5);
  std::mt19937_64 rng(3);
  std::vector<double> x = leak_series(rng, run, 5000, kKiB, 64 * kKiB, 0);
  EXPECT_EQ(run.judge_series(x, Signal::kHeap, 64 * kKiB).verdict, Verdict::kInconclusive);
}

TEST(Judge, ThreadLeakCounts) {
  SynthRun run(3, 15, 5);
  std::vector<double> x;
  double n = 4;
  for (Phase ph : run.phase) x.push_back(ph == Phase::kLoad ? ++n : n);
  EXPECT_EQ(run.judge_series(x, Signal::kThreads, 0).verdict, Verdict::kLeak);
}

TEST(Judge, ConnectionsHeldDuringLoadAreNotALeak) {
  // fds: 64 connections open for the whole load (with jitter), all closed after it.
  SynthRun run(3, 15, 5);
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> jitter(-3, 3);
  std::vector<double> x;
  for (Phase ph : run.phase) x.push_back(ph == Phase::kLoad ? 74 + jitter(rng) : 10);
  EXPECT_EQ(run.judge_series(x, Signal::kFds, 0).verdict, Verdict::kNoLeak);
}

TEST(Judge, WatchWithoutCooldownJudgesOnTrend) {
  SynthRun run(0, 30, 0);
  for (Phase& p : run.phase) p = Phase::kWatch;
  std::vector<double> x;
  for (size_t i = 0; i < run.t.size(); ++i) x.push_back(100 + 3.0 * i);
  Judgement j = run.judge_series(x, Signal::kGoroutines, 0);
  EXPECT_EQ(j.verdict, Verdict::kLeak);
  EXPECT_EQ(j.reason, "still growing at the end");
}

// ---- a reason states only what the series shows (issue 17) ---------------------------------

TEST(Judge, WatchFlatForItsLastSnapshotsIsNotStillGrowing) {
  // Goroutines rise for 25 snapshots, then stay flat for the last 15: still a leak by the trend,
  // but "still growing at the end" would be false.
  SynthRun run(0, 40, 0);
  for (Phase& p : run.phase) p = Phase::kWatch;
  std::vector<double> x;
  for (size_t i = 0; i < run.t.size(); ++i) x.push_back(100 + 3.0 * std::min<size_t>(i, 24));
  Judgement j = run.judge_series(x, Signal::kGoroutines, 0);
  EXPECT_EQ(j.verdict, Verdict::kLeak);
  EXPECT_NE(j.reason, "still growing at the end");
  EXPECT_NE(j.reason.find("stayed flat"), std::string::npos) << j.reason;
  EXPECT_NE(j.reason.find("for its last 17 snapshots"), std::string::npos) << j.reason;
}

TEST(Judge, SecondHalfThatStillRisesIsNotCalledFlat) {
  // Descriptors: +20 per snapshot for 10 snapshots, then +1 per snapshot to the end (20 more,
  // past the floor of 4 but under a quarter of the growth), kept in cooldown. The verdict stays
  // no-leak; the reason must not say "stayed flat".
  SynthRun run(5, 30, 10);
  std::vector<double> x;
  double n = 10;
  int load = 0;
  for (Phase ph : run.phase) {
    if (ph == Phase::kLoad) n += load++ < 10 ? 20 : 1;
    x.push_back(n);
  }
  Judgement j = run.judge_series(x, Signal::kFds, 0);
  EXPECT_EQ(j.verdict, Verdict::kNoLeak) << j.reason;
  EXPECT_EQ(j.reason.find("stayed flat"), std::string::npos) << j.reason;
  EXPECT_EQ(j.reason,
            "most of its growth came early under load; the second half added under a quarter");
}

TEST(Judge, SecondHalfThatRisesLessThanTheFloorSaysSo) {
  // Filled early, then a second half that moves more than the floor (one spike) but ends less
  // than a floor above its middle: not "stayed flat", and still no leak.
  SynthRun run(5, 30, 10);
  std::vector<double> x;
  double n = 10;
  int load = 0;
  for (Phase ph : run.phase) {
    if (ph == Phase::kLoad) {
      ++load;
      n = load <= 10 ? 10 + 6.0 * load : 70 + (load - 10) / 7;
    }
    x.push_back(load == 22 && ph == Phase::kLoad ? 80 : n);
  }
  Judgement j = run.judge_series(x, Signal::kFds, 0);
  EXPECT_EQ(j.verdict, Verdict::kNoLeak) << j.reason;
  EXPECT_EQ(j.reason, "rose early under load; its second half rose less than the noise floor");
}

TEST(Judge, CooldownThatGaveSomeBackIsNotNothingCameBack) {
  SynthRun run(3, 15, 5);
  std::vector<double> x;
  double n = 4;
  for (Phase ph : run.phase)
    x.push_back(ph == Phase::kLoad ? ++n : ph == Phase::kCooldown ? n - 5 : n);
  Judgement j = run.judge_series(x, Signal::kFds, 0);
  EXPECT_EQ(j.verdict, Verdict::kLeak) << j.reason;
  EXPECT_EQ(j.reason.find("did not come back"), std::string::npos) << j.reason;
  EXPECT_NE(j.reason.find("most of it stayed in cooldown"), std::string::npos) << j.reason;
}

// ---- short loads (issue 11): snapshots every 0.2 s under load, rounds, exact counts ----------

TEST(Judge, ShortLoadExactCountIsALeak) {
  // A metric family from 0 to 20,000 series over a 5.5 s load at one snapshot a second: 7 points,
  // where Mann-Kendall's best p is 0.0013 (over the rule's 0.001). It is an exact count that rose
  // 5,000 floors, still rose at the end, and stayed: a leak.
  SynthRun run(5, 6, 10);
  std::vector<double> x;
  double n = 0;
  for (Phase ph : run.phase) x.push_back(ph == Phase::kLoad ? (n += 3400) : n);
  Judgement j = run.judge_series(x, Signal::kMetrics, 0);
  EXPECT_EQ(j.verdict, Verdict::kLeak) << j.reason;
  EXPECT_GT(j.p_load, 1e-3);  // the rank test alone could not have said so
}

TEST(Judge, ShortLoadExactCountThatFillsOrComesBackIsNotALeak) {
  SynthRun run(5, 6, 10);
  std::vector<double> in_flight, bounded;
  int k = 0;
  for (Phase ph : run.phase) {
    in_flight.push_back(ph == Phase::kLoad ? 10 + 40.0 * ++k : 10);  // connections, closed after
    bounded.push_back(ph == Phase::kBaseline ? 0 : 120);             // routes: filled at once
  }
  EXPECT_NE(run.judge_series(in_flight, Signal::kFds, 0).verdict, Verdict::kLeak);
  EXPECT_NE(run.judge_series(bounded, Signal::kMetrics, 0).verdict, Verdict::kLeak);
}

TEST(Judge, ShortLoadOfSampledHeapStaysInconclusiveWithoutPoints) {
  // A sampled series gets no such shortcut: 4 points under load is inconclusive (rounds and
  // faster snapshots are what give it points).
  SynthRun run(5, 4, 5);
  std::mt19937_64 rng(3);
  std::vector<double> x = leak_series(rng, run, 5000, kKiB, 16 * kKiB, 0);
  EXPECT_EQ(run.judge_series(x, Signal::kHeap, 16 * kKiB).verdict, Verdict::kInconclusive);
}

// A background thread appending 512 B every 10 ms (51 KiB/s) from start to exit, whatever the
// load does: 5 s baseline, a 2 s load at 0.2 s, 10 s cooldown, sampled at 16 KiB.
std::vector<double> history_series(std::mt19937_64& rng, const SynthRun& run, double per_s) {
  double size = 512, rate = 16 * kKiB, p = 1 - std::exp(-size / rate);
  std::vector<double> x;
  double live = 0, last_t = 0;
  for (double t : run.t) {
    std::binomial_distribution<int64_t> b(static_cast<int64_t>(per_s * (t - last_t)), p);
    live += static_cast<double>(b(rng)) * size / p;
    last_t = t;
    x.push_back(live);
  }
  return x;
}

TEST(Judge, GrowthThatDoesNotFollowTheLoadIsALeak) {
  // Measured over 1,000 seeds: found in 995 (the misses: a baseline of 5 points whose few samples
  // tie too often to rise at 0.1). Over 100 seeds that is 99.5 +- 0.7; the bound 95 is 6 sigma
  // below, so the test fails only if the rule got worse.
  SynthRun run(5, 10, 10, 0.2);
  int found = 0;
  for (int seed = 0; seed < 100; ++seed) {
    std::mt19937_64 rng(seed);
    Judgement j = run.judge_series(history_series(rng, run, 100), Signal::kHeap, 16 * kKiB);
    found += j.verdict == Verdict::kLeak && j.steady;
  }
  EXPECT_GE(found, 95);
}

TEST(Judge, AccumulatingSeriesInAShortWatchIsALeak) {
  // The history above under a 15 s watch (one snapshot a second, no phases): it grows about 1.5
  // floors in all, so its second half carries less than a whole floor; but it never steps down,
  // which a turning ring's random walk does as often as up. Measured over 1,000 seeds: found in
  // 984 (406 when a whole floor was asked of it). Over 100 seeds that is 98.4 +- 1.3; the bound
  // 90 is 6 sigma below.
  SynthRun run(0, 15, 0);
  for (Phase& p : run.phase) p = Phase::kWatch;
  int found = 0;
  for (int seed = 0; seed < 100; ++seed) {
    std::mt19937_64 rng(seed);
    found += run.judge_series(history_series(rng, run, 60), Signal::kHeap, 16 * kKiB).verdict ==
             Verdict::kLeak;
  }
  EXPECT_GE(found, 90);
}

TEST(Judge, WorkThatLandsAfterTheLoadIsNotASteadyLeak) {
  // Flat baseline, a rise under load, a little more early in cooldown (deferred work), then flat
  // and slowly given back: not a leak of any kind (it did not grow while idle before the load).
  SynthRun run(5, 10, 10, 0.2);
  std::vector<double> x;
  for (size_t i = 0; i < run.t.size(); ++i) {
    double v = 1e6;
    if (run.phase[i] == Phase::kLoad) v += 1e5 * static_cast<double>(i - 4);
    if (run.phase[i] == Phase::kCooldown)
      v = 2e6 + (i < 18 ? 1e5 * static_cast<double>(i - 14) : 3e5);
    x.push_back(v);
  }
  Judgement j = run.judge_series(x, Signal::kHeap, 16 * kKiB);
  EXPECT_FALSE(j.steady);
}

TEST(Judge, RoundsOfAShortLoadFindTheLeakAndPassTheCache) {
  // A 2 s load of 4,000 requests run five times at 0.2 s (50 load points): a leak of 1 KiB per
  // request on 2 MiB of churn, and a cache of 4 MiB filled in the first round. Measured over
  // 1,000 seeds at 16 KiB: leak found in 1,000, cache flagged in 0 (docs/analysis.md). Asserted
  // on 200 each: any miss or false alarm is a regression, not chance.
  SynthRun run(5, 50, 10, 0.2);
  int found = 0, cache_flagged = 0;
  for (int seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(7000 + seed);
    std::vector<double> leak = leak_series(rng, run, 400, kKiB, 16 * kKiB, 0);
    std::vector<double> cache = leak_series(rng, run, 400, kKiB, 16 * kKiB, 0);
    for (size_t i = 15; i < cache.size(); ++i) cache[i] = cache[14];  // full after round 1
    for (size_t i = 0; i < leak.size(); ++i) {
      leak[i] += sample_live(rng, 2048, kKiB, 16 * kKiB);
      cache[i] += sample_live(rng, 2048, kKiB, 16 * kKiB);
    }
    found += run.judge_series(leak, Signal::kHeap, 16 * kKiB).verdict == Verdict::kLeak;
    cache_flagged += run.judge_series(cache, Signal::kHeap, 16 * kKiB).verdict == Verdict::kLeak;
  }
  EXPECT_EQ(found, 200);
  EXPECT_EQ(cache_flagged, 0);
}

TEST(Judge, FastSnapshotsOfChurnAreNotALeak) {
  // The churning site of NoFalsePositivesOnChurningSites, snapshotted every 0.2 s over a 10 s
  // load (50 points) at 16 KiB. Measured over 20,000 seeds: 0 flagged. A correct rule gives 0
  // here; allowing 1 keeps the test's own false-failure rate below 1e-6.
  SynthRun run(5, 50, 10, 0.2);
  int leaks = 0;
  for (int seed = 0; seed < 2000; ++seed) {
    std::mt19937_64 rng(90000 + seed);
    std::vector<double> x;
    for (size_t i = 0; i < run.t.size(); ++i) x.push_back(sample_live(rng, 4096, kKiB, 16 * kKiB));
    leaks += run.judge_series(x, Signal::kHeap, 16 * kKiB).verdict == Verdict::kLeak;
  }
  EXPECT_LE(leaks, 1);
}

TEST(NoiseFloor, ScalesWithSamplingRate) {
  EXPECT_EQ(noise_floor(Signal::kHeap, 0, 0, 512 * kKiB), 4 * 512 * kKiB);
  // 3 sigma of a 100 MiB site at 512 KiB: 3 * sqrt(100 MiB * 512 KiB) ~ 21.2 MiB.
  EXPECT_NEAR(noise_floor(Signal::kHeap, 100 * kKiB * kKiB, 0, 512 * kKiB) / (kKiB * kKiB), 21.2,
              0.1);
  EXPECT_EQ(noise_floor(Signal::kHeap, 1e9, 0, 1), 64 * kKiB);
  EXPECT_EQ(noise_floor(Signal::kFds, 0, 200, 0), 20);
}

TEST(Human, Units) {
  EXPECT_EQ(human(512, "bytes"), "512 B");
  EXPECT_EQ(human(1536, "bytes"), "1.5 KiB");
  EXPECT_EQ(human(-5.0 * kKiB * kKiB, "bytes"), "-5.0 MiB");
  EXPECT_EQ(human(300.0 * kKiB * kKiB, "bytes"), "300 MiB");
  EXPECT_EQ(human(12, "count"), "12");
}

}  // namespace
}  // namespace leakscope::analysis
