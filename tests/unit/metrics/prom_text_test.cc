// The Prometheus text parser: families, series counts (histogram and summary folding, `le` and
// `quantile` ignored), every lexical corner of format 0.0.4, errors with line numbers, limits.
#include "core/metrics/prom_text.h"

#include <gtest/gtest.h>

#include <map>

namespace leakscope::metrics {
namespace {

std::map<std::string, Family> by_name(const std::vector<Family>& fs) {
  std::map<std::string, Family> m;
  for (const Family& f : fs) m[f.name] = f;
  return m;
}

std::vector<Family> parse_ok(std::string_view text) {
  auto r = parse_prom_text(text);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : std::vector<Family>{};
}

std::string parse_error(std::string_view text, const ParseLimits& limits = {}) {
  auto r = parse_prom_text(text, limits);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message;
}

TEST(PromText, CountsDistinctLabelSetsPerFamily) {
  auto fs = parse_ok(
      "# HELP http_requests_total Requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"get\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"200\"} 3 1395066363000\n"
      "http_requests_total{code=\"200\",method=\"get\"} 1028\n"  // same set, other order
      "# TYPE temperature gauge\n"
      "temperature 21.5\n");
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(fs[0].name, "http_requests_total");
  EXPECT_EQ(fs[0].type, MetricType::kCounter);
  EXPECT_EQ(fs[0].series, 2);
  EXPECT_EQ(fs[1].name, "temperature");
  EXPECT_EQ(fs[1].type, MetricType::kGauge);
  EXPECT_EQ(fs[1].series, 1);
}

TEST(PromText, CountsDistinctValuesPerLabelWithExamples) {
  auto fs =
      by_name(parse_ok("# TYPE rpc_seconds histogram\n"
                       "rpc_seconds_bucket{path=\"/a?id=1\",code=\"200\",le=\"+Inf\"} 1\n"
                       "rpc_seconds_count{path=\"/a?id=1\",code=\"200\"} 1\n"
                       "rpc_seconds_bucket{path=\"/a?id=2\",code=\"200\",le=\"+Inf\"} 1\n"
                       "rpc_seconds_bucket{path=\"/a?id=3\",code=\"500\",le=\"+Inf\"} 1\n"
                       "rpc_seconds_bucket{path=\"/a?id=4\",code=\"200\",le=\"+Inf\"} 1\n"));
  const auto& labels = fs["rpc_seconds"].labels;
  ASSERT_EQ(labels.size(), 2u);  // le is not a label of the series
  EXPECT_EQ(labels[0].name, "code");
  EXPECT_EQ(labels[0].values, 2);
  EXPECT_EQ(labels[1].name, "path");
  EXPECT_EQ(labels[1].values, 4);
  EXPECT_EQ(labels[1].examples, (std::vector<std::string>{"/a?id=1", "/a?id=2", "/a?id=3"}));
}

TEST(PromText, HistogramFoldsBucketsSumAndCountIgnoringLe) {
  auto fs =
      by_name(parse_ok("# TYPE rpc_seconds histogram\n"
                       "rpc_seconds_bucket{path=\"/a\",le=\"0.1\"} 1\n"
                       "rpc_seconds_bucket{path=\"/a\",le=\"+Inf\"} 2\n"
                       "rpc_seconds_sum{path=\"/a\"} 0.3\n"
                       "rpc_seconds_count{path=\"/a\"} 2\n"
                       "rpc_seconds_bucket{path=\"/b\",le=\"+Inf\"} 1\n"
                       "rpc_seconds_sum{path=\"/b\"} 0.1\n"
                       "rpc_seconds_count{path=\"/b\"} 1\n"));
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs["rpc_seconds"].type, MetricType::kHistogram);
  EXPECT_EQ(fs["rpc_seconds"].series, 2);
}

TEST(PromText, SummaryFoldsQuantilesSumAndCount) {
  auto fs =
      by_name(parse_ok("# TYPE lat summary\n"
                       "lat{quantile=\"0.5\"} NaN\n"
                       "lat{quantile=\"0.99\"} +Inf\n"
                       "lat_sum -Inf\n"
                       "lat_count 0\n"
                       "lat_bucket 1\n"));  // not a summary's suffix: a family of its own
  EXPECT_EQ(fs["lat"].series, 1);
  EXPECT_EQ(fs["lat"].type, MetricType::kSummary);
  EXPECT_EQ(fs["lat_bucket"].series, 1);
  EXPECT_EQ(fs["lat_bucket"].type, MetricType::kUntyped);
}

TEST(PromText, UntypedSuffixesStayTheirOwnFamilies) {
  auto fs = by_name(parse_ok("x_count 1\nx_sum 2\nx 3\n"));
  EXPECT_EQ(fs.size(), 3u);
  EXPECT_EQ(fs["x_count"].series, 1);
}

TEST(PromText, DeclaredFamilyWithoutSamplesHasNoSeries) {
  auto fs = parse_ok("# HELP empty_total Nothing yet.\n# TYPE empty_total counter\n");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].series, 0);
}

TEST(PromText, LexicalCorners) {
  auto fs =
      by_name(parse_ok("\n   \n"
                       "# a plain comment\n"
                       "#no space comment\n"
                       "  # TYPE  spaced \t counter\n"
                       "spaced { a = \"1\" , b=\"2\", } 1\r\n"  // blanks, trailing comma, CRLF
                       "spaced{a=\"esc\\\\ \\\" \\n\"} 1e3\n"   // every escape
                       "spaced{a=\"utf8 \xc3\xa9 {},=\"} -0.5 -12\n"  // any byte, negative time
                       "colon:name:total{} 7\n"                       // empty braces
                       "last 1"));                                    // no final newline
  EXPECT_EQ(fs["spaced"].series, 3);
  EXPECT_EQ(fs["colon:name:total"].series, 1);
  EXPECT_EQ(fs["last"].series, 1);
}

TEST(PromText, ErrorsNameTheLine) {
  EXPECT_EQ(parse_error("ok 1\nbad{a=\"x} 1\n"), "line 2: unterminated label value");
  EXPECT_EQ(parse_error("a{b=\"\\t\"} 1\n"), "line 1: invalid escape '\\t' in a label value");
  EXPECT_EQ(parse_error("a{b=\"1\",b=\"2\"} 1\n"), "line 1: label b twice in one sample");
  EXPECT_EQ(parse_error("a{b=1} 1\n"), "line 1: label b: value not quoted");
  EXPECT_EQ(parse_error("a{b\"1\"} 1\n"), "line 1: no '=' after label b");
  EXPECT_EQ(parse_error("a{b=\"1\" c=\"2\"} 1\n"), "line 1: expected ',' or '}' after label b");
  EXPECT_EQ(parse_error("a{1=\"1\"} 1\n"), "line 1: bad label name at column 3");
  EXPECT_EQ(parse_error("a\n"), "line 1: no value for a");
  EXPECT_EQ(parse_error("a one\n"), "line 1: bad value 'one'");
  EXPECT_EQ(parse_error("a ++1\n"), "line 1: bad value '++1'");
  EXPECT_EQ(parse_error("a 1 1.5\n"), "line 1: bad timestamp '1.5'");
  EXPECT_EQ(parse_error("a 1 2 3\n"), "line 1: unexpected text after the timestamp");
  EXPECT_EQ(parse_error("9a 1\n"), "line 1: a sample must start with a metric name");
  EXPECT_EQ(parse_error("a-b 1\n"), "line 1: bad metric name 'a-...'");
  EXPECT_EQ(parse_error("# TYPE a teapot\n"), "line 1: unknown type 'teapot' for a");
  EXPECT_EQ(parse_error("# TYPE a counter\n# TYPE a gauge\n"), "line 2: second # TYPE for a");
  EXPECT_EQ(parse_error("a 1\n# TYPE a gauge\n"), "line 2: # TYPE for a after its samples");
  EXPECT_EQ(parse_error("# HELP\n"), "line 1: # HELP without a metric name");
}

TEST(PromText, Limits) {
  ParseLimits small;
  small.max_bytes = 8;
  EXPECT_EQ(parse_error("a_total 12\n", small), "input: 11 bytes, over the 8-byte limit");
  ParseLimits few;
  few.max_series = 2;
  EXPECT_EQ(parse_error("a{i=\"1\"} 1\na{i=\"1\"} 1\na{i=\"2\"} 1\nb 1\n", few),
            "line 4: more than 2 series");
}

TEST(PromText, DemoServiceExposition) {
  // What examples/leaky-service serves after three distinct URLs and one fixed request.
  auto fs =
      by_name(parse_ok("# HELP leaky_requests_total Requests by registered route and variant.\n"
                       "# TYPE leaky_requests_total counter\n"
                       "leaky_requests_total{route=\"/metrics-by-path\",variant=\"leak\"} 3\n"
                       "leaky_requests_total{route=\"/metrics-by-path\",variant=\"fixed\"} 1\n"
                       "# HELP leaky_path_requests_total Requests by raw path and query.\n"
                       "# TYPE leaky_path_requests_total counter\n"
                       "leaky_path_requests_total{path=\"/metrics-by-path?id=1\"} 1\n"
                       "leaky_path_requests_total{path=\"/metrics-by-path?id=2\"} 1\n"
                       "leaky_path_requests_total{path=\"/metrics-by-path?id=\\\"3\\\"\"} 1\n"
                       "# HELP leaky_route_requests_total Requests by registered route.\n"
                       "# TYPE leaky_route_requests_total counter\n"
                       "leaky_route_requests_total{route=\"/metrics-by-path\"} 1\n"));
  EXPECT_EQ(fs["leaky_requests_total"].series, 2);
  EXPECT_EQ(fs["leaky_path_requests_total"].series, 3);
  EXPECT_EQ(fs["leaky_route_requests_total"].series, 1);
}

TEST(PromText, TypeNames) {
  EXPECT_STREQ(to_string(MetricType::kHistogram), "histogram");
  EXPECT_STREQ(to_string(MetricType::kUntyped), "untyped");
}

}  // namespace
}  // namespace leakscope::metrics
