// The report model: JSON per docs/report-schema.md (round trip, nulls, key names), the text
// report's order and content, folded stacks and flame growth.
#include "core/report/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace leakscope::report {
namespace {

using analysis::Finding;
using analysis::Signal;
using analysis::Verdict;

Report sample_report() {
  Report r;
  r.verdict = Verdict::kLeak;
  r.summary = "1 leak under load: leak_append (heap, +5.0 MiB, 512 KiB/s)";
  r.target.command = {"./svc", "--port", "0"};
  r.target.pid = 1234;
  r.target.url = "http://127.0.0.1:40000";
  r.started_at = "2026-11-22T03:00:00Z";
  r.duration_s = 35;
  r.limit_bytes = 512 << 20;
  r.limit_source = "flag";
  r.phases = {{"baseline", 0, 5}, {"load", 5, 25}, {"cooldown", 25, 35}};
  r.t_s = {0, 1, 2};
  r.series["rss_bytes"] = {1e6, NAN, 3e6};
  Finding f;
  f.kind = Signal::kHeap;
  f.verdict = Verdict::kLeak;
  f.site = Frame{"leak_append(Request const&)", "svc.cc", 42, 0, ""};
  f.stack = {Frame{"malloc", "", 0, 0, ""}, f.site, Frame{"handle", "svc.cc", 80, 0, ""},
             Frame{"main", "svc.cc", 100, 0, ""}};
  f.growth = 5 << 20;
  f.growth_per_s = 512 << 10;
  f.confidence = 0.97;
  f.evidence = "grew 5.0 MiB over the 20 s load";
  f.t_s = {0, 1, 2};
  f.values = {0, NAN, 5 << 20};
  f.forecast_s_to_limit = 3600;
  f.pattern = {"container-growth", "a long-lived container gets an entry per request",
               "bound it: a ring buffer", "leak_append grows a container: std::vector::push_back"};
  r.findings.push_back(f);
  Finding cache;
  cache.kind = Signal::kHeap;
  cache.verdict = Verdict::kNoLeak;
  cache.site = Frame{"cache_put", "svc.cc", 7, 0, ""};
  cache.suppressed = true;
  r.findings.push_back(cache);
  Finding metric;
  metric.kind = Signal::kMetrics;
  metric.verdict = Verdict::kLeak;
  metric.metric = "http_requests_by_path_total";
  metric.growth = 1000;
  metric.growth_per_s = 50;
  metric.confidence = 0.99;
  metric.evidence = "metric family http_requests_by_path_total: 3 -> 1003 series; grew 1000";
  metric.pattern = {"none", "no pattern of the catalogue matched", "", "nothing applies"};
  r.findings.push_back(metric);
  r.flame = make_flame({{{"main", "handle"}, 10}}, {{{"main", "handle"}, 30}, {{"main"}, 5}});
  r.snapshots = {{0, "baseline", {{"heap", "snapshots/0000.heap.pb.gz"}}}};
  r.notes = {"a note"};
  return r;
}

TEST(ReportJson, FollowsTheSchema) {
  auto j = nlohmann::json::parse(to_json(sample_report()));
  EXPECT_EQ(j["schema"], "leakscope.report/v1");
  EXPECT_EQ(j["verdict"], "leak");
  EXPECT_EQ(j["target"]["source"], "agent");
  EXPECT_EQ(j["target"]["pid"], 1234);
  EXPECT_TRUE(j["series"]["rss_bytes"][1].is_null());
  EXPECT_EQ(j["series"]["t_s"].size(), 3u);
  const auto& f = j["findings"][0];
  EXPECT_EQ(f["kind"], "heap");
  EXPECT_EQ(f["unit"], "bytes");
  EXPECT_EQ(f["site"]["function"], "leak_append(Request const&)");
  EXPECT_EQ(f["site"]["line"], 42);
  EXPECT_EQ(f["stack"][0]["function"], "malloc");
  EXPECT_EQ(f["forecast_s_to_limit"], 3600.0);
  EXPECT_TRUE(f["series"]["values"][1].is_null());
  EXPECT_TRUE(j["findings"][1]["forecast_s_to_limit"].is_null());
  EXPECT_EQ(j["findings"][1]["suppressed"], true);
  EXPECT_TRUE(f["metric"].is_null());
  const auto& m = j["findings"][2];
  EXPECT_EQ(m["kind"], "metrics");
  EXPECT_EQ(m["unit"], "series");
  EXPECT_EQ(m["metric"], "http_requests_by_path_total");
  EXPECT_EQ(m["site"]["function"], "");
  EXPECT_TRUE(m["stack"].is_array() && m["stack"].empty());
  EXPECT_EQ(j["flame"]["growth"][0]["value"], 20);
  EXPECT_EQ(j["flame"]["growth"][0]["stack"][1], "handle");
  EXPECT_EQ(j["snapshots"][0]["files"]["heap"], "snapshots/0000.heap.pb.gz");
}

TEST(ReportJson, EmptyReportHasArraysNotNulls) {
  Report r;
  auto j = nlohmann::json::parse(to_json(r));
  EXPECT_TRUE(j["findings"].is_array());
  EXPECT_TRUE(j["phases"].is_array());
  EXPECT_TRUE(j["notes"].is_array());
  EXPECT_TRUE(j["flame"]["final"].is_array());
  EXPECT_TRUE(j["limit_bytes"].is_null());
  EXPECT_TRUE(j["target"]["url"].is_null());
}

TEST(ReportJson, RoundTrips) {
  std::string once = to_json(sample_report());
  auto back = from_json(once);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(to_json(*back), once);
}

TEST(ReportJson, RejectsOtherSchemasAndBadFindings) {
  EXPECT_FALSE(from_json("[]").ok());
  EXPECT_FALSE(from_json(R"({"schema":"other/v1"})").ok());
  auto bad =
      from_json(R"({"schema":"leakscope.report/v1","verdict":"leak","findings":[{"kind":"x"}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("finding 0: unknown kind 'x'"), std::string::npos);
}

TEST(ReportJson, IgnoresUnknownKeys) {
  auto r = from_json(R"({"schema":"leakscope.report/v1","verdict":"no-leak","future":{"x":1}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kNoLeak);
}

TEST(ReportText, VerdictFirstThenFindings) {
  std::string t = render_text(sample_report());
  EXPECT_EQ(t.rfind("leakscope: LEAK: 1 leak under load", 0), 0u) << t;
  EXPECT_NE(t.find("[1] LEAK  heap  leak_append(Request const&)  svc.cc:42"), std::string::npos);
  EXPECT_NE(t.find("growth +5.0 MiB (512 KiB/s), confidence 0.97, memory limit in ~60 min"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("stack: leak_append(Request const&) (svc.cc:42) <- handle (svc.cc:80)"),
            std::string::npos);
  EXPECT_NE(t.find("[2] NO-LEAK (suppressed)"), std::string::npos);
  EXPECT_NE(t.find("note: a note"), std::string::npos);
  EXPECT_NE(t.find("[3] LEAK  metrics  http_requests_by_path_total  (metric family)\n"
                   "    growth +1000 (50/s), confidence 0.99\n"
                   "    metric family http_requests_by_path_total: 3 -> 1003 series"),
            std::string::npos)
      << t;
}

TEST(ReportPattern, JsonCarriesItAndNullWhenUnmatched) {
  auto j = nlohmann::json::parse(to_json(sample_report()));
  const auto& p = j["findings"][0]["pattern"];
  EXPECT_EQ(p["id"], "container-growth");
  EXPECT_EQ(p["fix"], "bound it: a ring buffer");
  EXPECT_EQ(p["evidence"], "leak_append grows a container: std::vector::push_back");
  EXPECT_TRUE(j["findings"][1]["pattern"].is_null());
  EXPECT_EQ(j["findings"][2]["pattern"]["id"], "none");
  auto back = from_json(to_json(sample_report()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->findings[0].pattern.cause, "a long-lived container gets an entry per request");
  EXPECT_TRUE(back->findings[1].pattern.id.empty());
}

TEST(ReportPattern, TextSaysCauseFixAndWhatMatched) {
  std::string t = render_text(sample_report());
  EXPECT_NE(t.find("    likely cause [container-growth]: a long-lived container gets an entry "
                   "per request\n      matched: leak_append grows a container: "
                   "std::vector::push_back\n    what to change: bound it: a ring buffer\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("    pattern: none matched (nothing applies)\n"), std::string::npos) << t;
}

// An inconclusive finding says what is missing, and no confidence: a number beside "we cannot
// tell" reads as a degree of belief in a leak that was never established.
TEST(ReportText, InconclusiveShowsNoConfidence) {
  Report r = sample_report();
  r.findings.resize(1);
  r.findings[0].verdict = Verdict::kInconclusive;
  r.findings[0].confidence = 0.5;
  std::string t = render_text(r);
  EXPECT_NE(t.find("    growth +5.0 MiB (512 KiB/s), memory limit in ~60 min\n"), std::string::npos)
      << t;
  EXPECT_EQ(t.find("confidence"), std::string::npos) << t;
}

// A signal read without stacks is named for what it is, on the card as in the headline.
TEST(ReportText, WholeProcessSaysWhatItIs) {
  Report r = sample_report();
  r.findings.resize(1);
  r.findings[0].site = Frame{};
  r.findings[0].stack.clear();
  r.findings[0].kind = Signal::kFds;
  std::string t = render_text(r);
  EXPECT_NE(t.find("[1] LEAK  fds  (whole process, no stacks)\n"), std::string::npos) << t;
  EXPECT_EQ(analysis::display_name(r.findings[0]), "(whole process, no stacks)");
}

TEST(Folded, RootFirstIntegerValuesNoSemicolonsInFrames) {
  std::string f = folded({{{"main", "a;b", "leaf"}, 42}, {{"main"}, 0}, {{"x"}, -3}});
  EXPECT_EQ(f, "main;a:b;leaf 42\n");
}

TEST(Flame, GrowthIsPositiveDifference) {
  Flame f = make_flame({{{"a"}, 10}, {{"b"}, 10}}, {{{"a"}, 25}, {{"b"}, 4}, {{"a"}, 5}});
  ASSERT_EQ(f.growth.size(), 1u);
  EXPECT_EQ(f.growth[0].value, 20);
  ASSERT_EQ(f.final.size(), 2u);
  EXPECT_EQ(f.final[0].value, 30);
}

}  // namespace
}  // namespace leakscope::report
