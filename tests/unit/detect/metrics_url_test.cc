// --metrics URLs (cli/detect_metrics.h): what parse_metrics_url keeps of a URL, where it puts
// /metrics when the URL names no path, and which inputs it refuses; and metrics_beside, the URL
// tried beside a --pprof debug server.
#include <gtest/gtest.h>

#include <string>

#include "cli/detect_metrics.h"

namespace leakscope::cli {
namespace {

// The URL parse_metrics_url makes of `text`, as Url::text() prints it; fails the test on an error.
std::string metrics_url(const std::string& text) {
  auto url = parse_metrics_url(text);
  EXPECT_TRUE(url.ok()) << text << ": " << url.error().message;
  return url ? url->text() : "";
}

// The error parse_metrics_url gives for `text`; fails the test when it parses.
std::string metrics_error(const std::string& text) {
  auto url = parse_metrics_url(text);
  EXPECT_FALSE(url.ok()) << text << " parsed as " << (url ? url->text() : "");
  return url ? "" : url.error().message;
}

TEST(MetricsUrl, HostAndPort) {
  auto url = parse_metrics_url("127.0.0.1:9100");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 9100);
  EXPECT_EQ(url->prefix, "/metrics");
  EXPECT_EQ(metrics_url("localhost:8080"), "http://localhost:8080/metrics");
}

TEST(MetricsUrl, PathAsGiven) {
  EXPECT_EQ(metrics_url("http://127.0.0.1:8080/metrics"), "http://127.0.0.1:8080/metrics");
  EXPECT_EQ(metrics_url("http://svc.local:8080/admin/prometheus"),
            "http://svc.local:8080/admin/prometheus");
  EXPECT_EQ(metrics_url("localhost:9100/stats"), "http://localhost:9100/stats");
}

TEST(MetricsUrl, DefaultPath) {
  EXPECT_EQ(metrics_url("http://127.0.0.1:8080"), "http://127.0.0.1:8080/metrics");
  EXPECT_EQ(metrics_url("http://127.0.0.1:8080/"), "http://127.0.0.1:8080/metrics");
}

// parse_url's normalisation, made for debug-server prefixes, applies to a metrics path too.
TEST(MetricsUrl, QueryAndTrailingSlashDropped) {
  EXPECT_EQ(metrics_url("http://127.0.0.1:8080/metrics?x=1"), "http://127.0.0.1:8080/metrics");
  EXPECT_EQ(metrics_url("http://127.0.0.1:8080/metrics/"), "http://127.0.0.1:8080/metrics");
  EXPECT_EQ(metrics_url("http://127.0.0.1:8080/#top"), "http://127.0.0.1:8080/metrics");
}

TEST(MetricsUrl, Ipv6InBrackets) {
  auto url = parse_metrics_url("http://[::1]:9090/metrics");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9090);
  EXPECT_EQ(url->text(), "http://[::1]:9090/metrics");
  EXPECT_EQ(metrics_url("[::1]:9090"), "http://[::1]:9090/metrics");
  EXPECT_EQ(metrics_url("[fe80::1%eth0]:9090"), "http://[fe80::1%eth0]:9090/metrics");
}

TEST(MetricsUrl, Refused) {
  EXPECT_NE(metrics_error("").find("no port"), std::string::npos);
  EXPECT_NE(metrics_error("localhost").find("no port in 'localhost'"), std::string::npos);
  EXPECT_NE(metrics_error("http://localhost/metrics").find("no port"), std::string::npos);
  EXPECT_NE(metrics_error("[::1]/metrics").find("no port"), std::string::npos);
  EXPECT_NE(metrics_error(":9100").find("no host"), std::string::npos);
  EXPECT_NE(metrics_error("http://[]:9100").find("no host"), std::string::npos);
  EXPECT_NE(metrics_error("[::1:9100").find("unclosed '['"), std::string::npos);
  for (const char* port : {"h:", "h:abc", "h:0", "h:65536", "h:-1", "h:+80", "h:80x", "h: 80"})
    EXPECT_NE(metrics_error(port).find("bad port"), std::string::npos) << port;
  for (const char* scheme : {"https://127.0.0.1:9100/metrics", "ftp://h:1", "unix:///run/m.sock"})
    EXPECT_NE(metrics_error(scheme).find("only http://"), std::string::npos) << scheme;
}

// Hosts that are no host: they used to parse and fail only at connect (or, with a line break,
// go out in the Host header).
TEST(MetricsUrl, RefusesGarbageHosts) {
  EXPECT_NE(metrics_error("::1:9100").find("needs brackets"), std::string::npos);
  EXPECT_NE(metrics_error("a:b:9100").find("needs brackets"), std::string::npos);
  EXPECT_NE(metrics_error("my host:9100").find("bad host 'my host'"), std::string::npos);
  EXPECT_NE(metrics_error("http://user@h:9100/metrics").find("bad host"), std::string::npos);
  EXPECT_NE(metrics_error("[localhost]:9100").find("bad host"), std::string::npos);
  EXPECT_FALSE(parse_metrics_url("h\r\nX-Evil: 1:9100").ok());
}

TEST(MetricsUrl, Beside) {
  Url debug;
  debug.host = "127.0.0.1";
  debug.port = 6060;
  EXPECT_EQ(metrics_beside(debug).text(), "http://127.0.0.1:6060/metrics");
  debug.prefix = "/svc";
  EXPECT_EQ(metrics_beside(debug).text(), "http://127.0.0.1:6060/svc/metrics");
  auto pprof = parse_url("http://[::1]:7000/svc/debug/pprof/");
  ASSERT_TRUE(pprof.ok());
  EXPECT_EQ(metrics_beside(*pprof).text(), "http://[::1]:7000/svc/metrics");
}

}  // namespace
}  // namespace leakscope::cli
