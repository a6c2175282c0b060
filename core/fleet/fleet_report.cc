// The fleet report's renderers: fleet.json (docs/fleet.md, schema leakscope.fleet/v1), the text
// report, and a self-contained HTML page (inline SVG, no script) with a chart per suspect drawn
// over its job's spread. All three are pure functions of FleetReport.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/analysis/judge.h"
#include "core/analysis/trend.h"
#include "core/fleet/fleet.h"
#include "core/html/html_escape.h"

namespace leakscope::fleet {
namespace {

using analysis::Verdict;
using nlohmann::json;

json number_or_null(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

json instance_json(const InstanceVerdict& v) {
  json sites = json::array();
  for (const Site& s : v.sites)
    sites.push_back(
        {{"kind", s.kind}, {"function", s.function}, {"file", s.file}, {"line", s.line}});
  json signals = json::array();
  for (const SignalVerdict& s : v.signals)
    signals.push_back({{"family", s.family},
                       {"kind", analysis::to_string(s.kind)},
                       {"verdict", analysis::to_string(s.verdict)},
                       {"sawtooth", s.sawtooth},
                       {"growth", s.growth},
                       {"growth_per_s", s.growth_per_s},
                       {"start_level", s.start_level},
                       {"end_level", s.end_level},
                       {"confidence", s.confidence},
                       {"evidence", s.evidence}});
  json restart_times = json::array();
  for (const Restart& r : v.restarts) restart_times.push_back(r.t_s);
  return {{"instance", v.instance},
          {"job", v.job},
          {"verdict", analysis::to_string(v.verdict)},
          {"kinds", v.kinds},
          {"evidence", v.evidence},
          {"restarts", v.restarts.size()},
          {"restart_times", restart_times},
          {"restart_interval_s", number_or_null(v.restart_interval_s)},
          {"time_to_limit_s", number_or_null(v.time_to_limit_s)},
          {"limit_bytes", number_or_null(v.limit_bytes)},
          {"peer_deviation", v.peer_ratio},
          {"found", v.found},
          {"signals", signals},
          {"sites", sites},
          {"next_step", v.next_step}};
}

std::string fmt_duration(double s) {
  char buf[48];
  if (s < 90) {
    std::snprintf(buf, sizeof buf, "%.0f s", s);
    return buf;
  }
  if (s >= 86400)
    std::snprintf(buf, sizeof buf, "%.1f d", s / 86400);
  else if (s >= 5400)
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  else
    std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
  return buf;
}

}  // namespace

std::string to_json(const FleetReport& r) {
  json instances = json::array();
  for (const InstanceVerdict& v : r.instances) instances.push_back(instance_json(v));
  json metrics = json::array();
  for (const MetricVerdict& m : r.metrics)
    metrics.push_back({{"family", m.family},
                       {"verdict", analysis::to_string(m.verdict)},
                       {"series_start", m.series_start},
                       {"series_end", m.series_end},
                       {"instances", m.instances},
                       {"label", m.label.empty() ? json(nullptr) : json(m.label)},
                       {"evidence", m.evidence}});
  size_t leaking = 0;
  for (const InstanceVerdict& v : r.instances) leaking += v.verdict == Verdict::kLeak;
  json doc = {{"schema", kSchema},          {"verdict", any_leak(r) ? "leak" : "no-leak"},
              {"prometheus", r.prometheus}, {"selector", r.selector},
              {"window_s", r.window_s},     {"end_s", r.end_s},
              {"step_s", r.step_s},         {"found", r.found},
              {"leaking", leaking},         {"instances", instances},
              {"metrics", metrics},         {"notes", r.notes}};
  return doc.dump(2) + "\n";
}

std::string render_text(const FleetReport& r, size_t max_instances) {
  size_t leaking = 0, inconclusive = 0;
  for (const InstanceVerdict& v : r.instances) {
    leaking += v.verdict == Verdict::kLeak;
    inconclusive += v.verdict == Verdict::kInconclusive;
  }
  std::string out = leaking ? "LEAK: " : "no leak: ";
  out += std::to_string(leaking) + " of " + std::to_string(r.instances.size()) +
         " instances leak over the last " + fmt_duration(r.window_s);
  if (inconclusive) out += " (" + std::to_string(inconclusive) + " inconclusive)";
  out += "\nseries found: ";
  for (size_t i = 0; i < r.found.size(); ++i) out += (i ? ", " : "") + r.found[i];
  out += r.found.empty() ? "none\n" : "\n";
  size_t shown = 0;
  for (const InstanceVerdict& v : r.instances) {
    if (v.verdict == Verdict::kNoLeak || shown == max_instances) continue;
    ++shown;
    out += "\n" + std::string(analysis::to_string(v.verdict)) + "  " + v.instance + " (job " +
           v.job + ")";
    if (!v.kinds.empty()) {
      out += "  kinds: ";
      for (size_t i = 0; i < v.kinds.size(); ++i) out += (i ? "," : "") + v.kinds[i];
    }
    out += "\n  " + v.evidence + "\n";
    if (!v.restarts.empty()) out += "  restarts: " + std::to_string(v.restarts.size());
    if (v.restart_interval_s) out += ", every " + fmt_duration(*v.restart_interval_s);
    if (!v.restarts.empty()) out += "\n";
    if (v.time_to_limit_s) out += "  time to the limit: " + fmt_duration(*v.time_to_limit_s) + "\n";
    for (const Site& s : v.sites)
      out += "  site (" + s.kind + "): " + s.function +
             (s.file.empty() ? "" : "  " + s.file + ":" + std::to_string(s.line)) + "\n";
    if (!v.next_step.empty()) out += "  next: " + v.next_step + "\n";
  }
  if (shown < leaking + inconclusive)
    out += "\n... and " + std::to_string(leaking + inconclusive - shown) + " more (see --json)\n";
  bool header = false;
  for (const MetricVerdict& m : r.metrics) {
    if (m.verdict != Verdict::kLeak) continue;
    if (!header) out += "\nmetric families gaining series:\n";
    header = true;
    out += "  " + m.family + ": " + std::to_string(m.series_start) + " -> " +
           std::to_string(m.series_end) + " series";
    if (!m.label.empty()) out += ", label '" + m.label + "' grows";
    out += " (on " + std::to_string(m.instances.size()) + " instance(s))\n";
  }
  for (const std::string& n : r.notes) out += "note: " + n + "\n";
  return out;
}

std::string render_html(const FleetReport& r) {
  // The job's spread: per job, the thinned charts of every instance, as a light band behind.
  std::map<std::string, std::vector<const InstanceVerdict*>> jobs;
  for (const InstanceVerdict& v : r.instances) jobs[v.job].push_back(&v);
  auto path = [&](const Series& s, double t0, double t1, double y1) {
    std::string d;
    char buf[64];
    for (size_t i = 0; i < s.t.size(); ++i) {
      double x = 10 + 580 * (s.t[i] - t0) / std::max(1.0, t1 - t0);
      double y = 150 - 140 * s.x[i] / std::max(1.0, y1);
      std::snprintf(buf, sizeof buf, "%s%.1f,%.1f", i ? " L" : "M", x, y);
      d += buf;
    }
    return d;
  };
  std::string body;
  size_t charts = 0;
  for (const InstanceVerdict& v : r.instances) {
    if (v.verdict != Verdict::kLeak || charts == 24) continue;
    ++charts;
    double t0 = r.end_s - r.window_s, t1 = r.end_s, y1 = 1;
    for (const InstanceVerdict* p : jobs[v.job])
      for (double x : p->chart.x) y1 = std::max(y1, x);
    if (v.limit_bytes) y1 = std::max(y1, *v.limit_bytes);
    std::string svg = "<svg viewBox='0 0 600 160' width='600' height='160'>";
    size_t peers = 0;
    // The spread: peers from the quiet end of the list (instances come suspects first).
    const auto& members = jobs[v.job];
    for (auto it = members.rbegin(); it != members.rend(); ++it) {
      const InstanceVerdict* p = *it;
      if (p == &v) continue;
      if (peers++ == 12) break;
      svg += "<path d='" + path(p->chart, t0, t1, y1) + "' stroke='#ccc' fill='none'/>";
    }
    svg +=
        "<path d='" + path(v.chart, t0, t1, y1) + "' stroke='#c22' stroke-width='2' fill='none'/>";
    if (v.limit_bytes) {
      char buf[96];
      double y = 150 - 140 * *v.limit_bytes / y1;
      std::snprintf(buf, sizeof buf,
                    "<line x1='10' x2='590' y1='%.1f' y2='%.1f' stroke='#888' "
                    "stroke-dasharray='4'/>",
                    y, y);
      svg += buf;
    }
    svg += "</svg>";
    body += "<section><h2>" + html::escape_html_text(v.instance) + " <small>job " +
            html::escape_html_text(v.job) + "</small></h2><p>" +
            html::escape_html_text(v.evidence) + "</p>" + svg + "</section>\n";
  }
  std::string text = render_text(r, 1000);
  return "<!doctype html><html><head><meta charset='utf-8'><title>leakscope fleet</title>"
         "<style>body{font:14px sans-serif;margin:2em;max-width:60em}svg{border:1px solid #eee}"
         "pre{white-space:pre-wrap}</style></head><body><h1>leakscope fleet</h1>"
         "<p>Red: the instance's memory; grey: up to 12 other instances of its job; dashed: the "
         "limit.</p>" +
         body + "<h2>Report</h2><pre>" + html::escape_html_text(text) +
         "</pre><script type='application/json' id='fleet'>" +
         html::escape_json_for_script(to_json(r)) + "</script></body></html>\n";
}

}  // namespace leakscope::fleet
