// The descriptor table and the /proc parsing helpers of the fd tracker
// (agent/trackers/track_fds.h).
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "agent/trackers/track_fds.h"

namespace leakscope::agent {
namespace {

class FdTableTest : public ::testing::Test {
 protected:
  static constexpr int kCap = 64;
  std::unique_ptr<std::atomic<uint64_t>[]> words_ { new std::atomic<uint64_t>[ kCap ]() };
  FdTable table_{words_.get(), kCap};

  static FdEntry entry(FdKind kind, uint32_t stack, uint8_t flags = 0) {
    FdEntry e;
    e.present = true;
    e.kind = kind;
    e.stack_id = stack;
    e.flags = flags;
    return e;
  }
};

TEST_F(FdTableTest, PackRoundTripsEveryField) {
  FdEntry e = entry(FdKind::kSocket, 0xfedcba98u, kFdCloexec | kFdStdio);
  e.agent = true;
  FdEntry back = FdEntry::unpack(e.pack());
  EXPECT_TRUE(back.present);
  EXPECT_TRUE(back.agent);
  EXPECT_EQ(back.kind, FdKind::kSocket);
  EXPECT_EQ(back.stack_id, 0xfedcba98u);
  EXPECT_EQ(back.flags, kFdCloexec | kFdStdio);
  EXPECT_EQ(FdEntry{}.pack(), 0u) << "an absent entry is the zero word";
  // A present entry with stack id 0 (stack table full) is still present.
  EXPECT_TRUE(FdEntry::unpack(entry(FdKind::kFile, 0).pack()).present);
}

TEST_F(FdTableTest, SetGetClear) {
  EXPECT_TRUE(table_.set(5, entry(FdKind::kPipe, 7)));
  EXPECT_EQ(table_.get(5).stack_id, 7u);
  EXPECT_EQ(table_.high_water(), 6);
  table_.clear(5);
  EXPECT_FALSE(table_.get(5).present);
  EXPECT_EQ(table_.high_water(), 6) << "the high-water mark never shrinks";
}

TEST_F(FdTableTest, DescriptorsPastCapacityAreCountedNotStored) {
  EXPECT_FALSE(table_.set(kCap, entry(FdKind::kFile, 1)));
  EXPECT_FALSE(table_.set(kCap + 1000, entry(FdKind::kFile, 1)));
  EXPECT_EQ(table_.overflow(), 2);
  EXPECT_FALSE(table_.get(kCap).present);
  EXPECT_FALSE(table_.set(-1, entry(FdKind::kFile, 1)));
  EXPECT_EQ(table_.overflow(), 2) << "a failed call (-1) is not overflow";
  table_.clear(kCap + 5);  // harmless
  table_.clear(-1);
}

TEST_F(FdTableTest, CloseRangeClearsOnlyTheRange) {
  for (int fd = 0; fd < 10; ++fd) table_.set(fd, entry(FdKind::kFile, 100 + fd));
  table_.clear_range(3, 6);
  for (int fd = 0; fd < 10; ++fd) EXPECT_EQ(table_.get(fd).present, fd < 3 || fd > 6) << fd;
  table_.clear_range(8, ~0u);  // close_range(8, ~0U, 0): everything from 8 up
  EXPECT_TRUE(table_.get(7).present);
  EXPECT_FALSE(table_.get(8).present);
  EXPECT_FALSE(table_.get(9).present);
}

TEST_F(FdTableTest, CloseRangeCloexecMarksWithoutClearing) {
  table_.set(2, entry(FdKind::kFile, 1));
  table_.set(4, entry(FdKind::kSocket, 2));
  table_.mark_cloexec_range(0, ~0u);
  EXPECT_TRUE(table_.get(2).present);
  EXPECT_EQ(table_.get(2).flags & kFdCloexec, kFdCloexec);
  EXPECT_EQ(table_.get(4).stack_id, 2u);
  EXPECT_FALSE(table_.get(3).present) << "absent entries stay absent";
}

TEST_F(FdTableTest, ClearIfDropsOnlyTheEntryTheServerSaw) {
  // The server saw fd 7 stale; meanwhile it was closed and opened again from another site.
  FdEntry seen = entry(FdKind::kFile, 11);
  table_.set(7, seen);
  table_.clear(7);
  table_.set(7, entry(FdKind::kSocket, 12));
  EXPECT_FALSE(table_.clear_if(7, seen));
  EXPECT_EQ(table_.get(7).stack_id, 12u) << "the new descriptor keeps its creation stack";
  EXPECT_TRUE(table_.clear_if(7, table_.get(7)));
  EXPECT_FALSE(table_.get(7).present);
  EXPECT_FALSE(table_.clear_if(kCap, seen));
}

TEST_F(FdTableTest, ConcurrentOpenCloseOnDistinctDescriptorsLosesNothing) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 20000; ++i) {
        int fd = t * 16 + (i % 16);
        table_.set(fd, entry(FdKind::kFile, static_cast<uint32_t>(fd + 1)));
        if (i % 3 == 0) table_.clear(fd);
      }
      for (int k = 0; k < 16; ++k) table_.set(t * 16 + k, entry(FdKind::kFile, t * 16 + k + 1));
    });
  }
  for (auto& th : threads) th.join();
  for (int fd = 0; fd < 64; ++fd) EXPECT_EQ(table_.get(fd).stack_id, static_cast<uint32_t>(fd + 1));
}

TEST(ClassifyFdLink, KernelLinkForms) {
  EXPECT_EQ(classify_fd_link("socket:[12345]"), FdKind::kSocket);
  EXPECT_EQ(classify_fd_link("pipe:[999]"), FdKind::kPipe);
  EXPECT_EQ(classify_fd_link("anon_inode:[eventfd]"), FdKind::kEventfd);
  EXPECT_EQ(classify_fd_link("anon_inode:[timerfd]"), FdKind::kTimerfd);
  EXPECT_EQ(classify_fd_link("anon_inode:[signalfd]"), FdKind::kSignalfd);
  EXPECT_EQ(classify_fd_link("anon_inode:[eventpoll]"), FdKind::kEpoll);
  EXPECT_EQ(classify_fd_link("anon_inode:inotify"), FdKind::kInotify);
  EXPECT_EQ(classify_fd_link("anon_inode:[pidfd]"), FdKind::kOther);
  EXPECT_EQ(classify_fd_link("/memfd:arena (deleted)"), FdKind::kMemfd);
  EXPECT_EQ(classify_fd_link("/etc/passwd"), FdKind::kFile);
  EXPECT_EQ(classify_fd_link("/tmp/x (deleted)"), FdKind::kFile);
  EXPECT_EQ(classify_fd_link("net:[4026531840]"), FdKind::kOther);
  EXPECT_EQ(classify_fd_link(""), FdKind::kUnknown);
  EXPECT_EQ(classify_fd_link(nullptr), FdKind::kUnknown);
}

TEST(ClassifyFdLink, CompatibilityDetectsReplacedDescriptors) {
  EXPECT_TRUE(fd_kinds_compatible(FdKind::kSocket, FdKind::kSocket));
  EXPECT_FALSE(fd_kinds_compatible(FdKind::kSocket, FdKind::kFile))
      << "a socket closed by a raw syscall and its number reused for a file";
  EXPECT_FALSE(fd_kinds_compatible(FdKind::kPipe, FdKind::kSocket));
  EXPECT_FALSE(fd_kinds_compatible(FdKind::kFile, FdKind::kSocket));
  EXPECT_TRUE(fd_kinds_compatible(FdKind::kFile, FdKind::kEventfd))
      << "open(\"/proc/self/fd/N\") of an eventfd is an eventfd";
  EXPECT_TRUE(fd_kinds_compatible(FdKind::kUnknown, FdKind::kPipe)) << "dup of an unknown fd";
}

TEST(ProcParsing, TaskStateFollowsTheLastParenthesis) {
  EXPECT_EQ(parse_task_state("1234 (worker) S 1 1234 ..."), 'S');
  EXPECT_EQ(parse_task_state("1234 (a) b) R 1 ..."), 'R') << "names may contain ') '";
  EXPECT_EQ(parse_task_state("1234 (x) D"), 'D');
  EXPECT_EQ(parse_task_state("garbage"), '?');
  EXPECT_EQ(parse_task_state("1 (x)"), '?');
}

TEST(ProcParsing, SigBlkMask) {
  uint64_t mask = 0;
  const char* status =
      "Name:\tx\nSigQ:\t0/1\nSigPnd:\t0000000000000000\nSigBlk:\t0800000000000001\n";
  ASSERT_TRUE(parse_sig_blocked(status, &mask));
  EXPECT_EQ(mask, 0x0800000000000001ull);
  EXPECT_FALSE(parse_sig_blocked("Name:\tx\n", &mask));
}

}  // namespace
}  // namespace leakscope::agent
