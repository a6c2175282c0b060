// The Prometheus API's answers, as Prometheus 2.x writes them.
#include "core/fleet/prom_api.h"

#include <gtest/gtest.h>

namespace leakscope::fleet {
namespace {

TEST(PromApi, ParsesAMatrix) {
  auto r = parse_query(R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{"instance":"a:1","job":"api"},"values":[[1700000000,"1.5"],[1700000030.5,"2"]]}]}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].labels.at("instance"), "a:1");
  EXPECT_EQ((*r)[0].values.t, (std::vector<double>{1700000000, 1700000030.5}));
  EXPECT_EQ((*r)[0].values.x, (std::vector<double>{1.5, 2}));
}

TEST(PromApi, ParsesAVector) {
  auto r = parse_query(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{},"value":[1700000000,"7"]}]}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].values.x, std::vector<double>{7});
}

TEST(PromApi, PassesPrometheusErrorsOn) {
  auto r = parse_query(
      R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "bad_data: 1:5: parse error: unexpected");
  EXPECT_FALSE(parse_query("<html>").ok());
}

TEST(PromApi, ParsesTsdbStatusAndLabels) {
  auto t = parse_tsdb_status(R"({"status":"success","data":{"seriesCountByMetricName":[
      {"name":"http_requests_by_path_total","value":1200},{"name":"up","value":6}]}})");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].second, 1200);
  auto l = parse_strings(R"({"status":"success","data":["__name__","path"]})");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->size(), 2u);
}

TEST(PromApi, Durations) {
  EXPECT_EQ(parse_duration("6h"), 21600);
  EXPECT_EQ(parse_duration("30s"), 30);
  EXPECT_EQ(parse_duration("1h30m"), 5400);
  EXPECT_EQ(parse_duration("1d"), 86400);
  EXPECT_EQ(parse_duration("45"), 45);
  EXPECT_FALSE(parse_duration("6x"));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("h"));
  EXPECT_EQ(with_selector("go_goroutines", "{job=\"api\"}"), "go_goroutines{job=\"api\"}");
}

}  // namespace
}  // namespace leakscope::fleet
