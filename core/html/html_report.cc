// The HTML report: a page with the report JSON embedded as data and the bundled script that
// draws it (web/src, see docs/report.md). The renderer adds nothing the JSON does not say; it
// only places three things in a fixed frame: the escaped JSON, the script and the stylesheet.
//
// It reads the JSON once, leniently, for the <title> and a <noscript> line (verdict and summary),
// so a browser tab and a reader without JavaScript still see the verdict. A document that does
// not parse is embedded all the same: the page says why it cannot draw it, which is more useful
// at 3 a.m. than no page.
#include "core/html/html_report.h"

#include <nlohmann/json.hpp>

#include "core/html/html_escape.h"
#include "core/html/report_assets.h"

namespace leakscope::html {
namespace {

struct Headline {
  std::string verdict = "unknown";
  std::string summary;
};

std::string string_field(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Headline read_headline(const std::string& report_json) {
  Headline h;
  auto doc = nlohmann::json::parse(report_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    h.summary = "report.json could not be read";
    return h;
  }
  if (auto v = string_field(doc, "verdict"); !v.empty()) h.verdict = v;
  h.summary = string_field(doc, "summary");
  return h;
}

}  // namespace

std::string render_html_report(const std::string& report_json) {
  const Headline headline = read_headline(report_json);
  const std::string title =
      "leakscope: " + headline.verdict + (headline.summary.empty() ? "" : " — " + headline.summary);
  const std::string json = escape_json_for_script(report_json);

  std::string page;
  page.reserve(json.size() + html_assets::kScript.size() + html_assets::kStyle.size() + 1024);
  page += "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page += "<meta name=\"color-scheme\" content=\"light dark\">\n";
  page += "<meta name=\"generator\" content=\"leakscope\">\n";
  page += "<title>" + escape_html_text(title) + "</title>\n<style>";
  page += html_assets::kStyle;
  page += "</style>\n</head>\n<body>\n<main id=\"app\">\n<noscript><h1>" +
          escape_html_text(headline.verdict) + "</h1><p>" + escape_html_text(headline.summary) +
          "</p><p>The charts and flame graphs of this report need JavaScript; the report JSON is "
          "embedded in this file.</p></noscript>\n</main>\n";
  page += "<script type=\"application/json\" id=\"leakscope-report\">";
  page += json;
  page += "</script>\n<script>";
  page += html_assets::kScript;
  page += "</script>\n</body>\n</html>\n";
  return page;
}

}  // namespace leakscope::html
