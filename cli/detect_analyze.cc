// See detect_analyze.h.
#include "cli/detect_analyze.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/html/html_report.h"
#include "core/profile/profile_ops.h"
#include "core/symbolize/symbolizer.h"

namespace leakscope::cli {
namespace {

std::vector<report::FlameEntry> flame_entries(std::vector<analysis::StackValue> stacks) {
  std::vector<report::FlameEntry> out;
  out.reserve(stacks.size());
  for (analysis::StackValue& s : stacks) out.push_back({std::move(s.stack), s.value});
  return out;
}

// The phases as spans of the points' times (a phase's first and last point are never thinned).
std::vector<report::PhaseSpan> phases_of(const std::vector<analysis::PointRef>& points) {
  std::vector<report::PhaseSpan> out;
  for (const analysis::PointRef& p : points) {
    if (out.empty() || out.back().name != analysis::to_string(p.phase))
      out.push_back({analysis::to_string(p.phase), p.t_s, p.t_s});
    out.back().end_s = p.t_s;
  }
  return out;
}

// The metrics endpoint's labels at the last scrape, and a note when some scrapes failed.
void add_metrics(const Session& session, analysis::RunModel& m) {
  if (const MetricsScraper* scraper = session.metrics_scraper())
    for (const auto& [family, labels] : scraper->last_labels())
      for (const metrics::LabelValues& l : labels)
        m.run.metric_labels[family].push_back({l.name, l.values, l.examples});
  std::string url = session.metrics_url();
  size_t n = session.snapshot_count(), scraped = session.metrics_scraped();
  if (url.empty() || scraped == n) return;
  const std::string& first_error = session.first_metrics_error();
  m.notes.push_back("metrics: " + std::to_string(n - scraped) + " of " + std::to_string(n) +
                    " scrapes of " + url + " failed" +
                    (first_error.empty() ? std::string() : " (first: " + first_error + ")"));
}

Result<void> write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error("writing " + path);
  return {};
}

}  // namespace

report::Report build_report(analysis::RunModel c, const RunInfo& info, const ReportContext& ctx) {
  c.run.requested_rate = ctx.requested_rate;
  if (info.round_ends.size() > 1) c.run.first_round_end_s = info.round_ends.front();
  if (ctx.limit_bytes) c.run.limit_bytes = static_cast<double>(*ctx.limit_bytes);
  analysis::Analysis a = analysis::analyze(c.run, ctx.options);
  report::Report r;
  r.verdict = a.verdict;
  r.summary = a.summary;
  r.target = ctx.target;
  r.started_at = info.started_at;
  r.duration_s = c.points.empty() ? 0 : c.points.back().t_s;
  r.interval_s = info.interval_s;
  r.limit_bytes = ctx.limit_bytes;
  r.limit_source = ctx.limit_source;
  r.phases = phases_of(c.points);
  r.t_s = c.run.t_s;
  r.series = std::move(c.series);
  r.findings = std::move(a.findings);
  if (c.has_flame)
    r.flame = report::make_flame(flame_entries(std::move(c.flame_before)),
                                 flame_entries(std::move(c.flame_final)));
  for (analysis::PointRef& p : c.points)
    r.snapshots.push_back({p.t_s, analysis::to_string(p.phase), std::move(p.files)});
  r.notes = info.notes;
  for (std::string& n : a.notes) r.notes.push_back(std::move(n));
  for (std::string& n : c.notes) r.notes.push_back(std::move(n));
  return r;
}

report::Report build_report(const Session& session, const ReportContext& ctx) {
  analysis::RunModel model = session.run().finish();
  add_metrics(session, model);
  RunInfo info{session.started_at(), session.options().interval_s, session.round_ends(),
               session.notes()};
  return build_report(std::move(model), info, ctx);
}

Result<void> write_report_files(const report::Report& r, const std::string& dir) {
  std::string json = report::to_json(r);
  if (auto ok = write_file(dir + "/report.json", json); !ok) return ok;
  if (auto ok = write_file(dir + "/report.html", html::render_html_report(json)); !ok) return ok;
  if (auto ok = write_file(dir + "/growth.folded", report::folded(r.flame.growth)); !ok) return ok;
  return write_file(dir + "/final.folded", report::folded(r.flame.final));
}

}  // namespace leakscope::cli
