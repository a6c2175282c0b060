// The sample budget's decision (agent/heap/sample_budget.cc): how a thread's heap rate moves with the
// samples per CPU second of a window of kBudgetWindow samples.
#include <gtest/gtest.h>

#include "agent/heap/sampler.h"

namespace leakscope::agent {

int64_t g_rate = 16384;  // what agent.cc defines inside the library

namespace {

// The CPU time a window takes at `per_sec` samples per second.
int64_t window_ns(double per_sec) { return static_cast<int64_t>(kBudgetWindow * 1e9 / per_sec); }

TEST(SampleBudget, UnderTheBudgetTheRateStays) {
  EXPECT_EQ(budget_shift(0, window_ns(19000), 20000), 0);
  EXPECT_EQ(budget_shift(3, window_ns(6000), 20000), 3);  // above a quarter: no flapping
}

TEST(SampleBudget, RaisesByTheDoublingsNeeded) {
  EXPECT_EQ(budget_shift(0, window_ns(30000), 20000), 1);
  EXPECT_EQ(budget_shift(0, window_ns(1000000), 20000), 6);  // 50x: 2^6 = 64
  EXPECT_EQ(budget_shift(2, window_ns(1000000), 20000), 8);  // on top of the shift in force
}

TEST(SampleBudget, LowersWhenAllocationSlows) {
  EXPECT_EQ(budget_shift(6, window_ns(4000), 20000), 5);  // 8000 at 2^5 is under 10000
  EXPECT_EQ(budget_shift(6, window_ns(10), 20000), 0);    // idle: back to the rate asked
}

TEST(SampleBudget, BoundedAndOffAtZero) {
  EXPECT_EQ(budget_shift(0, 1, 1), kMaxHeapShift);
  EXPECT_EQ(budget_shift(2, 0, 20000), 2);           // a clock that did not move: no information
  EXPECT_EQ(budget_shift(5, window_ns(1e9), 0), 5);  // no budget: unchanged
}

TEST(SampleBudget, RateOfShift) {
  EXPECT_EQ(rate_of_shift(0), 16384);
  EXPECT_EQ(rate_of_shift(3), 16384 * 8);
  int64_t saved = g_rate;
  g_rate = 1;  // every allocation: never raised
  EXPECT_EQ(rate_of_shift(5), 1);
  g_rate = INT64_MAX / 2;
  EXPECT_EQ(rate_of_shift(4), INT64_MAX / 2);  // would overflow: stays
  g_rate = saved;
}

}  // namespace
}  // namespace leakscope::agent
