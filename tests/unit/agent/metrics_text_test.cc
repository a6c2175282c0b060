// The Prometheus text writer behind the agent's /metrics: every line it writes parses as the
// 0.0.4 format says (a HELP and a TYPE line per family, then samples named after the family),
// label values and help text are escaped, and the body ends with a newline. The real parser
// (promtool, a Prometheus server) reads the agent's body in tests/integration/agent_metrics*.sh.
#include "agent/server/metrics_text.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace leakscope::agent {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(MetricsText, FamiliesAndSamplesParseLineByLine) {
  MetricsText m;
  m.family("leakscope_heap_inuse_bytes", "gauge", "Live bytes.");
  m.sample(123);
  m.family("leakscope_table_overflow_total", "counter", "Overflow.");
  m.sample("table", "stacks", 0);
  m.sample("table", "fds", -5);
  const std::string& body = m.text();
  ASSERT_FALSE(body.empty());
  EXPECT_EQ(body.back(), '\n');
  // The 0.0.4 grammar, restricted to what the writer emits.
  const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter))");
  const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"\})? -?[0-9]+)");
  std::string family;
  int samples = 0;
  for (const std::string& line : lines_of(body)) {
    std::smatch match;
    if (std::regex_match(line, match, help)) {
      family = match[1];
    } else if (std::regex_match(line, match, type)) {
      EXPECT_EQ(match[1], family) << "TYPE without its HELP: " << line;
    } else {
      ASSERT_TRUE(std::regex_match(line, match, sample)) << "not a sample line: " << line;
      EXPECT_EQ(match[1], family) << "sample outside its family: " << line;
      ++samples;
    }
  }
  EXPECT_EQ(samples, 3);
  EXPECT_NE(body.find("leakscope_table_overflow_total{table=\"fds\"} -5\n"), std::string::npos);
}

TEST(MetricsText, EscapesHelpAndLabelValues) {
  EXPECT_EQ(MetricsText::escape_help("a\\b\nc\"d"), "a\\\\b\\nc\"d");
  EXPECT_EQ(MetricsText::escape_label_value("a\\b\nc\"d"), "a\\\\b\\nc\\\"d");
  MetricsText m;
  m.family("x", "gauge", "two\nlines");
  m.sample("path", "/tmp/\"q\"", 1);
  EXPECT_EQ(m.text(), "# HELP x two\\nlines\n# TYPE x gauge\nx{path=\"/tmp/\\\"q\\\"\"} 1\n");
}

TEST(MetricsText, ContentTypeIsTheFormats) {
  EXPECT_STREQ(kMetricsContentType, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace leakscope::agent
