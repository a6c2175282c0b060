// The pacing of a run's load phase: how fast to snapshot and when to run the load again.
#include "core/analysis/pacing.h"

#include <gtest/gtest.h>

namespace leakscope::analysis {
namespace {

TEST(LoadInterval, AsFastAsASnapshotAllows) {
  EXPECT_DOUBLE_EQ(load_interval(1, 0.005), kFastestLoadInterval);  // cheap: the fastest
  EXPECT_DOUBLE_EQ(load_interval(1, 0.05), 0.5);                    // a tenth of the time
  EXPECT_DOUBLE_EQ(load_interval(1, 0.5), 1);                       // never slower than asked
  EXPECT_DOUBLE_EQ(load_interval(0.1, 0.001), 0.1);                 // nor than a faster --interval
  EXPECT_DOUBLE_EQ(load_interval(1, 0), kFastestLoadInterval);      // not measured
}

TEST(Rounds, ShortLoadRepeatsUntilTenSeconds) {
  RoundsPolicy p;
  int done = 0;
  double load_s = 0;
  do {
    load_s += 1.5;
    ++done;
  } while (another_round(p, done, load_s, 1.5));
  EXPECT_EQ(done, 7);  // 10.5 s of load
  EXPECT_NE(rounds_note(p, done, load_s, 1.5).find("7 times"), std::string::npos);
}

TEST(Rounds, LongLoadRunsOnce) {
  RoundsPolicy p;
  EXPECT_FALSE(another_round(p, 1, 6, 6));  // a round of 5 s or more is enough on its own
  EXPECT_FALSE(another_round(p, 1, 9, 9));  // even under ten seconds in all
  EXPECT_TRUE(another_round(p, 1, 4.9, 4.9));
  EXPECT_FALSE(another_round(p, 2, 9.8, 4.9) && 9.8 + 4.9 > p.max_load_s);
  EXPECT_EQ(rounds_note(p, 1, 12, 12), "");
}

TEST(Rounds, Bounded) {
  RoundsPolicy p;
  EXPECT_FALSE(another_round(p, p.max_automatic_rounds, 1, 0.1));  // a load of no time at all
  p.enough_load_s = 100;
  EXPECT_FALSE(another_round(p, 7, 28, 4));  // would end past 30 s of load
}

TEST(Rounds, ExplicitCountIsObeyed) {
  RoundsPolicy p;
  p.rounds = 1;
  EXPECT_FALSE(another_round(p, 1, 1, 1));
  p.rounds = 3;
  EXPECT_TRUE(another_round(p, 2, 60, 30));  // whatever their length
  EXPECT_FALSE(another_round(p, 3, 90, 30));
  EXPECT_NE(rounds_note(p, 3, 90, 30).find("--rounds 3"), std::string::npos);
}

}  // namespace
}  // namespace leakscope::analysis
