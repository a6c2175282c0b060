// The pattern catalogue on a recorded profile: tests/data/cli/go_goroutine.pb.gz (tests/go/profgen:
// three workers parked on a channel receive, a server's accept loop, a connection's background
// read, the profile handler itself), each stack grown in proportion under a synthetic load, as the
// CLI feeds them (frames_of every sample, labels included).
#include <gtest/gtest.h>

#include <algorithm>

#include "core/analysis/patterns.h"
#include "core/profile/pprof_codec.h"

namespace leakscope::analysis {
namespace {

const Finding* find(const Analysis& a, const std::string& function) {
  for (const Finding& f : a.findings)
    if (f.site.function == function) return &f;
  return nullptr;
}

TEST(PatternsRecorded, GoGoroutineProfile) {
  auto p = read_profile_file(std::string(LEAKSCOPE_TEST_DATA) + "/go_goroutine.pb.gz");
  ASSERT_TRUE(p.ok()) << p.error().message;
  RunSeries r;
  for (int i = 0; i < 35; ++i) {
    r.t_s.push_back(i);
    r.phase.push_back(i < 5 ? Phase::kBaseline : i < 25 ? Phase::kLoad : Phase::kCooldown);
  }
  r.go_runtime = true;
  SiteSeriesBuilder b(r.t_s.size());
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    double load_s = std::clamp(static_cast<double>(i) - 4, 0.0, 20.0);
    b.mark_present(i, Signal::kGoroutines);
    for (const Sample& s : p->samples)
      b.add(i, Signal::kGoroutines, frames_of(*p, s), static_cast<double>(s.values[0]) * load_s,
            s.labels);
  }
  r.sites = b.finish();
  Analysis a = analyze(r);
  const Finding* workers = find(a, "main.parkedWorker");
  ASSERT_NE(workers, nullptr);
  EXPECT_EQ(workers->verdict, Verdict::kLeak);
  EXPECT_EQ(workers->pattern.id, "goroutine-chan-blocked");
  EXPECT_NE(workers->pattern.evidence.find("wait in runtime.chanrecv (chan receive)"), std::string::npos)
      << workers->pattern.evidence;
  // The accept loop waits in the poller too, but it is a server's, not a call with no timeout.
  const Finding* accept = find(a, "main.main");
  ASSERT_NE(accept, nullptr);
  EXPECT_NE(accept->pattern.id, "call-no-timeout");
}

}  // namespace
}  // namespace leakscope::analysis
