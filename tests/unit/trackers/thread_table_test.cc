// The thread table's lifecycle (agent/trackers/track_threads.h): every order in which exit, join,
// detach and the creator's publish may happen frees the slot exactly once.
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "agent/trackers/track_threads.h"

namespace leakscope::agent {
namespace {

class ThreadTableTest : public ::testing::Test {
 protected:
  static constexpr int kCap = 8;
  std::unique_ptr<ThreadRecord[]> slots_{new ThreadRecord[kCap]};
  ThreadTable table_{slots_.get(), kCap};

  int live() const { return static_cast<int>(table_.snapshot().size()); }
  bool is_free(ThreadRecord* r) const { return (r->word.load() & kThreadStateMask) == kThreadFree; }

  // A thread as the hooks drive it: reserve, (child) started, (creator) publish.
  ThreadRecord* create(uint64_t handle, uint32_t flags = 0) {
    ThreadRecord* r = table_.reserve(42, flags, 0);
    table_.started(r, static_cast<pid_t>(handle + 1000), handle);
    table_.publish(r, handle);
    return r;
  }
};

TEST_F(ThreadTableTest, JoinableThreadLivesUntilJoined) {
  ThreadRecord* r = create(1);
  ASSERT_EQ(live(), 1);
  EXPECT_EQ(table_.snapshot()[0].state, kThreadRunning);
  EXPECT_EQ(table_.snapshot()[0].stack_id, 42u);
  table_.exited(r);
  ASSERT_EQ(live(), 1) << "exited but never joined: still holds its stack";
  EXPECT_EQ(table_.snapshot()[0].state, kThreadExited);
  EXPECT_TRUE(table_.joined(1));
  EXPECT_EQ(live(), 0);
  EXPECT_TRUE(is_free(r));
}

TEST_F(ThreadTableTest, DetachedThreadIsGoneAtExit) {
  ThreadRecord* r = create(2, kThreadDetached);
  table_.exited(r);
  EXPECT_EQ(live(), 0);
  EXPECT_TRUE(is_free(r));
}

TEST_F(ThreadTableTest, DetachBeforeOrAfterExit) {
  ThreadRecord* a = create(3);
  EXPECT_TRUE(table_.detached(3));
  EXPECT_EQ(live(), 1);
  table_.exited(a);
  EXPECT_EQ(live(), 0);

  ThreadRecord* b = create(4);
  table_.exited(b);
  EXPECT_EQ(live(), 1);
  EXPECT_TRUE(table_.detached(4));
  EXPECT_EQ(live(), 0);
}

TEST_F(ThreadTableTest, ExitAndDetachBeforeTheCreatorPublishes) {
  // The child runs, exits and is detached (by itself via pthread_self) before pthread_create
  // returned in the creator: the slot must not be freed under the creator's feet.
  ThreadRecord* r = table_.reserve(7, 0, 0);
  table_.started(r, 555, 9);
  EXPECT_TRUE(table_.detached(9));
  table_.exited(r);
  EXPECT_FALSE(is_free(r)) << "not published yet";
  table_.publish(r, 9);
  EXPECT_TRUE(is_free(r));
  EXPECT_EQ(live(), 0);
}

TEST_F(ThreadTableTest, DetachedAtCreationExitingBeforePublish) {
  ThreadRecord* r = table_.reserve(7, kThreadDetached, 0);
  table_.started(r, 556, 10);
  table_.exited(r);
  EXPECT_FALSE(is_free(r));
  table_.publish(r, 10);
  EXPECT_TRUE(is_free(r));
}

TEST_F(ThreadTableTest, HandleReusedWhileADetachedRecordAwaitsPublish) {
  // A detached thread exits before its creator published it; glibc hands its descriptor (the
  // same pthread_t) to a new joinable thread at once. Joining the new one must free the new
  // record, not the old one (found first in slot order).
  ThreadRecord* old_r = table_.reserve(1, kThreadDetached, 0);
  table_.started(old_r, 100, 77);
  table_.exited(old_r);
  ThreadRecord* new_r = create(77);
  table_.exited(new_r);
  EXPECT_TRUE(table_.joined(77));
  EXPECT_TRUE(is_free(new_r));
  table_.publish(old_r, 77);
  EXPECT_TRUE(is_free(old_r));
  EXPECT_EQ(live(), 0);
}

TEST_F(ThreadTableTest, AJoinHidesItsRecordFromTheHandlesNextOwner) {
  // pthread_join returned and glibc gave the handle to a new thread before the joiner booked
  // the join: lookups for the new thread must not find the old record.
  ThreadRecord* old_r = create(88);
  table_.exited(old_r);
  ASSERT_EQ(table_.begin_join(88), old_r);
  ThreadRecord* new_r = create(88);  // same pthread_t, reused
  EXPECT_EQ(table_.find(88, true), new_r);
  table_.end_join(old_r, true);
  EXPECT_TRUE(is_free(old_r));
  EXPECT_TRUE(table_.detached(88));  // the new thread's detach reaches the new record
  table_.exited(new_r);
  EXPECT_TRUE(is_free(new_r));
}

TEST_F(ThreadTableTest, AFailedJoinLeavesTheRecordJoinable) {
  ThreadRecord* r = create(89);
  ASSERT_EQ(table_.begin_join(89), r);
  table_.end_join(r, false);  // e.g. pthread_tryjoin_np: EBUSY
  EXPECT_EQ(table_.find(89, true), r);
  table_.exited(r);
  EXPECT_TRUE(table_.joined(89));
  EXPECT_TRUE(is_free(r));
}

TEST_F(ThreadTableTest, FullTableCountsOverflowAndFailedCreateReturnsTheSlot) {
  std::vector<ThreadRecord*> rs;
  for (int i = 0; i < kCap; ++i) rs.push_back(table_.reserve(1, 0, 0));
  for (auto* r : rs) ASSERT_NE(r, nullptr);
  EXPECT_EQ(table_.reserve(1, 0, 0), nullptr);
  EXPECT_EQ(table_.overflow(), 1);
  table_.unreserve(rs[3]);
  EXPECT_EQ(table_.reserve(1, 0, 0), rs[3]);
}

TEST_F(ThreadTableTest, AgentThreadsAreHiddenButListed) {
  create(11, kThreadAgent);
  create(12);
  EXPECT_EQ(live(), 1);
  auto agent = table_.agent_tids();
  ASSERT_EQ(agent.size(), 1u);
  EXPECT_EQ(agent[0], 1011);
}

TEST_F(ThreadTableTest, ForkChildKeepsOnlyTheCallingThread) {
  ThreadRecord* self = create(20);
  create(21);
  create(22);
  table_.after_fork_child(self, 777, 99);
  auto snap = table_.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].tid, 777);
  EXPECT_EQ(snap[0].handle, 99u);
}

// Issue 18, item 7: after many threads came and went, a fork child rewrote every slot up to the
// high-water mark, copying the whole table page by page. Only records in use are written.
TEST(ThreadTableFork, ChildWritesOnlyTheRecordsInUse) {
  constexpr int kCap = 4096;
  std::unique_ptr<ThreadRecord[]> slots(new ThreadRecord[kCap]);
  ThreadTable table(slots.get(), kCap);
  ThreadRecord* keep[3] = {};
  for (int i = 0; i < 4000; ++i) {  // threads come and go: the high-water mark climbs
    ThreadRecord* r = table.reserve(1, 0, 0);
    ASSERT_NE(r, nullptr);
    table.started(r, 100 + i, 1 + i);
    table.publish(r, 1 + i);
    if (i == 10 || i == 2000 || i == 3990) {
      keep[i == 10 ? 0 : i == 2000 ? 1 : 2] = r;
      continue;
    }
    table.exited(r);
    ASSERT_TRUE(table.joined(r));
  }
  EXPECT_EQ(table.after_fork_child(keep[1], 777, 99), 3) << "self and the two others in use";
  auto snap = table.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].tid, 777);
  // The high-water mark dropped to self: a second fork reads and writes self alone.
  EXPECT_EQ(table.after_fork_child(keep[1], 778, 99), 1);
  // And the table still hands out slots beyond it.
  for (int i = 0; i < kCap - 1; ++i) ASSERT_NE(table.reserve(1, 0, 0), nullptr);
  EXPECT_EQ(table.reserve(1, 0, 0), nullptr);
  EXPECT_EQ(static_cast<int>(table.snapshot().size()), 1) << "reserved slots are not listed";
}

TEST_F(ThreadTableTest, GoneBooksTheExitOfTheThreadItSaw) {
  // A thread that left without its TSD destructor (raw exit): the server finds it gone.
  create(30);
  ThreadRecord* detached = create(31, kThreadDetached);
  auto snap = table_.snapshot();
  ASSERT_EQ(snap.size(), 2u);
  for (const ThreadInfo& info : snap) EXPECT_TRUE(table_.gone(info));
  auto after = table_.snapshot();
  ASSERT_EQ(after.size(), 1u) << "the detached one is freed, the joinable one awaits its join";
  EXPECT_EQ(after[0].handle, 30u);
  EXPECT_EQ(after[0].state, kThreadExited);
  EXPECT_TRUE(is_free(detached));
  EXPECT_TRUE(table_.joined(30));
  EXPECT_EQ(live(), 0);
}

TEST_F(ThreadTableTest, GoneDoesNothingOnceTheRecordChanged) {
  ThreadRecord* r = create(32);
  ThreadInfo seen = table_.snapshot()[0];
  table_.set_flag(r, kThreadCancelled);
  EXPECT_FALSE(table_.gone(seen)) << "a flag changed since the snapshot: look again next scan";
  EXPECT_EQ(table_.snapshot()[0].state, kThreadRunning);
  table_.exited(r);
  EXPECT_FALSE(table_.gone(seen));
  EXPECT_TRUE(table_.joined(32));
}

TEST(ThreadTableReuse, GoneNeverLandsOnTheSlotsNextOccupant) {
  // The race CI hit: the server snapshots thread A running, A exits and is joined, its slot goes
  // to a new thread B (reserved, not started yet), and only then does the server, which saw A's
  // tid dead, book the exit. It must not touch B: a B marked exited before it ran was later
  // freed while it ran, and its own exit then landed on another record, left booked forever.
  ThreadRecord slot[1];
  ThreadTable table(slot, 1);
  ThreadRecord* a = table.reserve(1, 0, 0);
  table.started(a, 500, 7);
  table.publish(a, 7);
  ThreadInfo seen = table.snapshot()[0];
  table.exited(a);
  ASSERT_TRUE(table.joined(7));
  ThreadRecord* b = table.reserve(2, 0, 0);
  ASSERT_EQ(b, a) << "one slot: B reuses A's";
  EXPECT_FALSE(table.gone(seen));
  EXPECT_EQ(b->word.load() & kThreadStateMask, kThreadReserved);
  table.started(b, 501, 7);  // glibc hands B the same pthread_t too
  table.publish(b, 7);
  EXPECT_FALSE(table.gone(seen));
  auto snap = table.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].state, kThreadRunning);
  EXPECT_EQ(snap[0].tid, 501);
  table.exited(b);
  EXPECT_TRUE(table.joined(7));
  EXPECT_TRUE(table.snapshot().empty());
}

TEST(ThreadTableReuse, TheGenerationWrapsWithoutChangingState) {
  // 70,000 occupants of one slot: the 16-bit count wraps, states and flags stay intact.
  ThreadRecord slot[1];
  ThreadTable table(slot, 1);
  for (int i = 0; i < 70000; ++i) {
    ThreadRecord* r = table.reserve(1, kThreadDetached, 0);
    ASSERT_NE(r, nullptr) << i;
    table.started(r, 600, 9);
    table.publish(r, 9);
    ASSERT_EQ(r->word.load() & kThreadFlagsMask, kThreadDetached | kThreadPublished) << i;
    table.exited(r);
    ASSERT_EQ(r->word.load() & kThreadStateMask, kThreadFree) << i;
  }
  EXPECT_EQ(table.overflow(), 0);
}

TEST_F(ThreadTableTest, RacingExitJoinDetachFreeEachSlotOnce) {
  // Many rounds of exit racing detach on one record: afterwards the slot is always free, and
  // the table never hands out a slot that is still in use.
  for (int round = 0; round < 2000; ++round) {
    ThreadRecord* r = create(100 + round);
    std::thread exiter([&] { table_.exited(r); });
    std::thread detacher([&] { table_.detached(100 + round); });
    exiter.join();
    detacher.join();
    ASSERT_TRUE(is_free(r)) << "round " << round;
  }
  EXPECT_EQ(live(), 0);
}

}  // namespace
}  // namespace leakscope::agent
