// The HTML report: one self-contained page (no network at view time; JavaScript and CSS
// inlined) rendered from report.json alone, so text, JSON and HTML can never disagree. The page
// embeds the JSON it draws from (<script type="application/json" id="leakscope-report">).
#pragma once

#include <string>

namespace leakscope::html {

// Renders the page for a report.json document (schema leakscope.report/v1, docs/report-schema.md).
std::string render_html_report(const std::string& report_json);

}  // namespace leakscope::html
