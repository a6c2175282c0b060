// The agent's bounded tables and its math: the live set (lock-free lookups, concurrent
// insert/remove), the stack table (interning, capacity, overflow count) and the unbiasing.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "agent/agent_internal.h"
#include "agent/heap/fast_math.h"
#include "agent/heap/live_set.h"

namespace leakscope::agent {

// Stubs for what guard.cc's neighbours provide inside the library.
std::atomic<bool> g_sampling{false};
std::atomic<bool> g_ready{false};

namespace {

TEST(FastMath, LnAndExpMatchLibm) {
  for (double x : {1e-300, 1e-9, 0.001, 0.5, 1.0, 1.5, 2.0, 3.14159, 1e6, 1e300}) {
    EXPECT_NEAR(fast_ln(x), std::log(x), 1e-10 * std::fabs(std::log(x)) + 1e-12) << x;
  }
  for (double x : {0.0, -1e-6, -0.1, -1.0, -7.5, -100.0, -699.0}) {
    EXPECT_NEAR(fast_exp_neg(x) / std::exp(x), 1.0, 1e-11) << x;
  }
}

TEST(FastMath, SampleWeightIsGosFormula) {
  EXPECT_EQ(sample_weight(4096, 1), 1.0);
  double expect = 1 / (1 - std::exp(-4096.0 / 524288));
  EXPECT_NEAR(sample_weight(4096, 524288), expect, 1e-9 * expect);
  EXPECT_NEAR(sample_weight(int64_t{1} << 40, 524288), 1.0, 1e-12);
}

TEST(LiveSet, InsertFindRemove) {
  LiveSet set;
  ASSERT_TRUE(set.init(1024));
  EXPECT_FALSE(set.maybe_contains(0x1000));
  ASSERT_TRUE(set.insert(0x1000, {7, 0, 100, 100}));
  EXPECT_TRUE(set.maybe_contains(0x1000));
  EXPECT_FALSE(set.maybe_contains(0x1008));
  LiveSet::Payload out;
  ASSERT_TRUE(set.remove(0x1000, &out));
  EXPECT_EQ(out.stack_id, 7u);
  EXPECT_EQ(out.size, 100);
  EXPECT_FALSE(set.maybe_contains(0x1000));
  EXPECT_FALSE(set.remove(0x1000, &out));
  EXPECT_EQ(set.live(), 0);
}

TEST(LiveSet, BoundedPoolFailsInsteadOfGrowing) {
  LiveSet set;
  ASSERT_TRUE(set.init(64));
  int inserted = 0;
  for (uintptr_t i = 1; i <= 1000; ++i) inserted += set.insert(i * 16, {1, 0, 16, 16});
  EXPECT_EQ(inserted, 64);
  // Removing frees nodes for reuse by keys of the same bucket only; the pool never grows.
  EXPECT_EQ(set.live(), 64);
}

TEST(LiveSet, ConcurrentInsertRemoveNeverLosesALiveKey) {
  LiveSet set;
  ASSERT_TRUE(set.init(1 << 16));
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        std::vector<uintptr_t> keys;
        for (int i = 0; i < 100; ++i) {
          uintptr_t k = (static_cast<uintptr_t>(t) << 40) | ((round % 7) << 20) | (i << 4);
          if (set.insert(k, {1, 0, 16, 16})) keys.push_back(k);
        }
        for (uintptr_t k : keys) {
          if (!set.maybe_contains(k)) errors.fetch_add(1);
          LiveSet::Payload out;
          if (!set.remove(k, &out)) errors.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(set.live(), 0);
}

TEST(StackTable, InternsOnceAndOverflowsAtCapacity) {
  stack_table_init(0);  // the minimum: 1024 entries
  int64_t cap = stack_table_capacity();
  ASSERT_EQ(cap, 1024);
  uintptr_t pcs[3] = {0x401000, 0x402000, 0x403000};
  uint32_t a = intern_stack(pcs, 3);
  EXPECT_GT(a, 0u);
  EXPECT_EQ(intern_stack(pcs, 3), a);
  uintptr_t out[kMaxFrames];
  ASSERT_EQ(stack_pcs(a, out, kMaxFrames), 3);
  EXPECT_EQ(out[2], 0x403000u);
  EXPECT_EQ(stack_pcs(999999, out, kMaxFrames), 0);
  for (uintptr_t i = 0; i < 2 * static_cast<uintptr_t>(cap); ++i) {
    pcs[0] = 0x500000 + i;
    intern_stack(pcs, 3);
  }
  EXPECT_EQ(stack_table_size(), cap);
  EXPECT_EQ(stack_table_overflow(), 2 * cap - (cap - 1));
}

}  // namespace
}  // namespace leakscope::agent
