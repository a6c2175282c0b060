// The HTML renderer: the page embeds the report JSON escaped (and decodable back to the same
// document), carries the bundled script and stylesheet, names the verdict without JavaScript,
// and loads nothing from the network.
#include "core/html/html_report.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "core/html/report_assets.h"

namespace leakscope::html {
namespace {

const char kOpen[] = "<script type=\"application/json\" id=\"leakscope-report\">";

// The text between the JSON element's opening tag and the next "</script".
std::string embedded_json(const std::string& page) {
  const size_t start = page.find(kOpen);
  if (start == std::string::npos) return {};
  const size_t from = start + sizeof(kOpen) - 1;
  const size_t end = page.find("</script", from);
  return end == std::string::npos ? std::string() : page.substr(from, end - from);
}

std::string fixture(const std::string& name) {
  const char* src = std::getenv("LEAKSCOPE_SOURCE");
  std::ifstream in(std::string(src ? src : ".") + "/tests/data/report/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json hostile_report() {
  return {{"schema", "leakscope.report/v1"},
          {"verdict", "leak"},
          {"summary", "leak at operator<< </script><script>alert(1)</script>"},
          {"findings",
           {{{"kind", "heap"},
             {"verdict", "leak"},
             {"site", {{"function", "f<!--x-->()"}, {"file", "a&b.cc"}, {"line", 1}}}}}}};
}

TEST(RenderHtmlReport, EmbedsTheJsonDecodableToTheSameDocument) {
  const nlohmann::json doc = hostile_report();
  const std::string page = render_html_report(doc.dump());
  const std::string json = embedded_json(page);
  ASSERT_FALSE(json.empty());
  EXPECT_EQ(nlohmann::json::parse(json), doc);
}

TEST(RenderHtmlReport, ReportTextCannotCloseItsElement) {
  const std::string page = render_html_report(hostile_report().dump());
  // One JSON element, one script element, and nothing from the summary ran into the markup.
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  size_t closes = 0;
  for (size_t at = page.find("</script"); at != std::string::npos;
       at = page.find("</script", at + 1)) {
    ++closes;
  }
  EXPECT_EQ(closes, 2u);
}

TEST(RenderHtmlReport, CarriesTheBundledPage) {
  ASSERT_GT(html_assets::kScript.size(), 10000u);
  ASSERT_GT(html_assets::kStyle.size(), 1000u);
  const std::string page = render_html_report(fixture("run_small.json"));
  EXPECT_NE(page.find(html_assets::kScript), std::string::npos);
  EXPECT_NE(page.find(html_assets::kStyle), std::string::npos);
  // The script comes after the data it reads.
  EXPECT_LT(page.find(kOpen), page.find(html_assets::kScript));
  // The page marks itself rendered: the contract with the headless-browser test.
  EXPECT_NE(html_assets::kScript.find("leakscope-report"), std::string_view::npos);
  EXPECT_NE(html_assets::kScript.find("rendered"), std::string_view::npos);
}

TEST(RenderHtmlReport, NamesTheVerdictWithoutJavaScript) {
  const std::string page = render_html_report(hostile_report().dump());
  EXPECT_NE(page.find("<title>leakscope: leak — leak at operator&lt;&lt; &lt;/script&gt;"),
            std::string::npos);
  EXPECT_NE(page.find("<noscript><h1>leak</h1>"), std::string::npos);
}

TEST(RenderHtmlReport, LoadsNothingFromTheNetwork) {
  const std::string page = render_html_report(fixture("run_small.json"));
  ASSERT_GT(page.size(), 20000u);
  // No element may point at another resource: no src= or href= with a scheme or a path.
  const std::regex external(R"re((src|href)\s*=\s*["']?\s*(https?:)?//)re", std::regex::icase);
  EXPECT_FALSE(std::regex_search(page, external));
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(page.find("url(http"), std::string::npos);
}

TEST(RenderHtmlReport, StillWritesAPageForUnreadableJson) {
  const std::string page = render_html_report("{not json</script>");
  EXPECT_NE(page.find("<title>leakscope: unknown — report.json could not be read</title>"),
            std::string::npos);
  EXPECT_EQ(embedded_json(page), "{not json\\u003c/script\\u003e");
}

}  // namespace
}  // namespace leakscope::html
