// The agent's registry of its own descriptors (agent/own_fds.cc): moved high, marked lost when
// the host closes or dup2s over them (as the hooks report), never closed once lost, and found
// out by identity when closed by a raw system call and reused.
#include "agent/own_fds.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace leakscope::agent {

int g_wakes = 0;
void server_wake() { ++g_wakes; }

namespace {

int open_null() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }
bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

TEST(OwnFds, MovesDescriptorsHigh) {
  int fd = own_fd(open_null());
  ASSERT_GE(fd, 0);
  int base = own_fd_base();
  if (base > 0) {
    EXPECT_GE(fd, base);
  }
  EXPECT_TRUE(own_fd_ok(fd));
  EXPECT_TRUE(own_fd_live(fd));
  own_fd_close(fd);
  EXPECT_FALSE(is_open(fd));
  EXPECT_FALSE(own_fd_live(fd));
}

TEST(OwnFds, HostCloseMarksLostAndWakesOnce) {
  int fd = own_fd(open_null());
  ASSERT_GE(fd, 0);
  int wakes = g_wakes;
  own_fds_closing(0, static_cast<unsigned>(fd) - 1);  // below it: untouched
  EXPECT_TRUE(own_fd_live(fd));
  EXPECT_EQ(g_wakes, wakes);
  int64_t lost = own_fds_lost_total();
  own_fds_closing(3, ~0U);  // closefrom(3)
  EXPECT_FALSE(own_fd_live(fd));
  EXPECT_FALSE(own_fd_ok(fd));
  EXPECT_EQ(g_wakes, wakes + 1);
  EXPECT_EQ(own_fds_lost_total(), lost + 1);
  own_fds_closing(3, ~0U);  // already lost: counted once
  EXPECT_EQ(own_fds_lost_total(), lost + 1);
  // The number is the host's now: own_fd_close forgets it without closing it.
  own_fd_close(fd);
  EXPECT_TRUE(is_open(fd));
  close(fd);
}

TEST(OwnFds, RawCloseAndReuseIsFoundByIdentity) {
  int fd = own_fd(open_null());
  ASSERT_GE(fd, 0);
  syscall(SYS_close, fd);  // no hook sees this
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  int reused = fcntl(pipe_fds[0], F_DUPFD, fd);  // the host's pipe takes the number
  ASSERT_EQ(reused, fd);
  EXPECT_TRUE(own_fd_live(fd));  // the flag alone cannot know
  EXPECT_FALSE(own_fd_ok(fd));   // the identity can
  own_fd_close(fd);
  EXPECT_TRUE(is_open(fd));  // the host's pipe is left open
  close(fd);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

TEST(OwnFds, ForkChildClosesOnlyWhatIsStillTheAgents) {
  int kept = own_fd(open_null());
  int lost = own_fd(open_null());
  ASSERT_GE(kept, 0);
  ASSERT_GE(lost, 0);
  own_fds_closing(lost, lost);
  own_fds_close_all();
  EXPECT_FALSE(is_open(kept));
  EXPECT_TRUE(is_open(lost));
  close(lost);
}

TEST(OwnFds, FullRegistryClosesAndFails) {
  std::vector<int> fds;
  for (int i = 0; i < 64; ++i) fds.push_back(own_fd(open_null()));
  int extra = own_fd(open_null());
  EXPECT_EQ(extra, -1);
  for (int fd : fds) own_fd_close(fd);
}

}  // namespace
}  // namespace leakscope::agent
