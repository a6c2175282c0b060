// The detective's text parsers: /proc status and smaps_rollup, cgroup paths and limits, debug
// URLs and the agent's announce file.
#include <gtest/gtest.h>
#include <unistd.h>

#include "cli/detect_proc.h"
#include "cli/detect_url.h"

namespace leakscope::cli {
namespace {

TEST(Proc, Status) {
  ProcFigures f;
  parse_status("Name:\tsvc\nVmRSS:\t   1234 kB\nThreads:\t7\n", f);
  EXPECT_EQ(f.rss_bytes, 1234 * 1024);
  EXPECT_EQ(f.threads, 7);
  ProcFigures g;
  parse_status("XVmRSS: 5 kB\nThreads: x\n", g);  // keys match at line starts only
  EXPECT_FALSE(g.rss_bytes);
  EXPECT_FALSE(g.threads);
}

TEST(Proc, SmapsRollup) {
  EXPECT_EQ(parse_smaps_rollup_pss("Rss: 10 kB\nPss:  310 kB\nPss_Dirty: 112 kB\n"), 310 * 1024);
  EXPECT_FALSE(parse_smaps_rollup_pss("Rss: 10 kB\n"));
}

TEST(Proc, ReadsItself) {
  auto f = read_proc_figures(getpid());
  ASSERT_TRUE(f.ok());
  EXPECT_GT(f->rss_bytes.value_or(0), 0);
  EXPECT_GE(f->threads.value_or(0), 1);
  EXPECT_GE(f->fds.value_or(0), 3);
  EXPECT_FALSE(read_proc_figures(999999999).ok());
}

TEST(Cgroup, PathV1AndV2) {
  auto v2 = parse_proc_cgroup("0::/system.slice/svc.service\n");
  EXPECT_TRUE(v2.v2);
  EXPECT_EQ(v2.path, "/system.slice/svc.service");
  auto v1 = parse_proc_cgroup("5:cpu,cpuacct:/\n4:memory:/docker/abc\n0::/\n");
  EXPECT_FALSE(v1.v2);
  EXPECT_EQ(v1.path, "/docker/abc");
  EXPECT_TRUE(parse_proc_cgroup("garbage").path.empty());
}

TEST(Cgroup, Limits) {
  EXPECT_EQ(parse_memory_limit("536870912\n"), 536870912);
  EXPECT_FALSE(parse_memory_limit("max\n"));
  EXPECT_FALSE(parse_memory_limit("9223372036854771712\n"));  // v1 "unlimited"
  EXPECT_FALSE(parse_memory_limit(""));
}

TEST(Url, Forms) {
  auto a = parse_url("127.0.0.1:6060");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6060);
  EXPECT_EQ(a->prefix, "");
  auto b = parse_url("http://localhost:8080/svc/debug/pprof/heap?gc=1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->prefix, "/svc");
  EXPECT_EQ(b->text(), "http://localhost:8080/svc");
  auto c = parse_url("http://[::1]:7000/debug/pprof/");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->text(), "http://[::1]:7000");
  EXPECT_FALSE(parse_url("localhost").ok());
  EXPECT_FALSE(parse_url("https://x:1").ok());
  EXPECT_FALSE(parse_url("x:70000").ok());
  EXPECT_NE(parse_url("localhost").error().message.find("no port"), std::string::npos);
}

TEST(Url, Hosts) {
  EXPECT_EQ(parse_url("my-svc_1.internal:80")->host, "my-svc_1.internal");
  EXPECT_EQ(parse_url("[::ffff:127.0.0.1]:80")->host, "::ffff:127.0.0.1");
  EXPECT_NE(parse_url("::1:6060").error().message.find("needs brackets"), std::string::npos);
  EXPECT_NE(parse_url("a b:80").error().message.find("bad host 'a b'"), std::string::npos);
  EXPECT_FALSE(parse_url("http://user@h:80").ok());
  EXPECT_FALSE(parse_url("h\nHost: x:80").ok());
  EXPECT_FALSE(parse_announce("ho st:1\n").ok());
}

TEST(Url, Announce) {
  auto a = parse_announce("127.0.0.1:40123\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 40123);
  auto b = parse_announce("[::1]:5\n");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_FALSE(parse_announce("").ok());
}

}  // namespace
}  // namespace leakscope::cli
