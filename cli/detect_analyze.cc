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

using analysis::Phase;
using analysis::Signal;

// The value index a signal is read from: inuse_space for heap and mmap, the last (default)
// sample type otherwise.
std::optional<size_t> value_index(const Profile& p, Signal s) {
  if (s == Signal::kHeap || s == Signal::kMmap) {
    auto i = select_sample_type(p, "inuse_space");
    if (i) return *i;
  }
  auto i = select_sample_type(p, "");
  if (i) return *i;
  return std::nullopt;
}

double total_of(const Profile& p, size_t idx) {
  double t = 0;
  for (const Sample& s : p.samples)
    if (idx < s.values.size()) t += static_cast<double>(s.values[idx]);
  return t;
}

// Root-first function names of every sample of a heap profile, for the flame graphs.
std::vector<report::FlameEntry> flame_stacks(const Profile& p) {
  std::vector<report::FlameEntry> out;
  auto idx = value_index(p, Signal::kHeap);
  if (!idx) return out;
  for (const Sample& s : p.samples) {
    if (*idx >= s.values.size() || s.values[*idx] <= 0) continue;
    report::FlameEntry e;
    for (const Frame& f : frames_of(p, s)) e.stack.insert(e.stack.begin(), f.function);
    e.value = s.values[*idx];
    out.push_back(std::move(e));
  }
  return out;
}

struct Collected {
  analysis::RunSeries run;
  std::map<std::string, std::vector<double>> series;
  std::vector<report::SnapshotRef> refs;
  std::vector<std::string> notes;
  report::Flame flame;
};

void put(std::map<std::string, std::vector<double>>& series, const std::string& key, size_t n,
         size_t i, std::optional<double> v) {
  if (!v) return;
  auto& s = series[key];
  if (s.empty()) s.assign(n, NAN);
  s[i] = *v;
}

// Series counts per metric family and snapshot: 0 where a scrape succeeded without the family
// (not exposed yet), NaN where there was no scrape. Nothing when no scrape ever succeeded.
void collect_metrics(const Session& session, Collected& c) {
  const auto& snaps = session.snapshots();
  size_t scraped = 0;
  for (const Snapshot& s : snaps)
    if (s.metrics) {
      ++scraped;
      for (const auto& [name, n] : *s.metrics) c.run.metric_families[name];
    }
  for (auto& [name, values] : c.run.metric_families)
    for (const Snapshot& s : snaps) {
      if (!s.metrics) {
        values.push_back(NAN);
        continue;
      }
      auto it = s.metrics->find(name);
      values.push_back(it == s.metrics->end() ? 0.0 : static_cast<double>(it->second));
    }
  if (const MetricsScraper* m = session.metrics_scraper())
    for (const auto& [family, labels] : m->last_labels())
      for (const metrics::LabelValues& l : labels)
        c.run.metric_labels[family].push_back({l.name, l.values, l.examples});
  std::string url = session.metrics_url();
  if (url.empty() || scraped == snaps.size()) return;
  std::string first_error;
  for (const Snapshot& s : snaps)
    for (const std::string& e : s.errors)
      if (first_error.empty() && e.rfind("metrics", 0) == 0) first_error = e;
  c.notes.push_back("metrics: " + std::to_string(snaps.size() - scraped) + " of " +
                    std::to_string(snaps.size()) + " scrapes of " + url + " failed" +
                    (first_error.empty() ? std::string() : " (first: " + first_error + ")"));
}

// Where the symbolizer looks for what a stripped binary lacks (SymbolizeOptions, libdwfl's
// standard search), so the reader knows what to install.
constexpr const char* kDebugInfoHint =
    ": debug info is looked for in each file itself, beside it (.gnu_debuglink, and in .debug/), "
    "and under /usr/lib/debug/.build-id/xx/yyyy.debug by build ID; install the -dbgsym packages, "
    "or build with -g, and run again";

Collected collect(const Session& session, bool go_runtime,
                  const analysis::SiteOptions& site_options) {
  const auto& snaps = session.snapshots();
  const size_t n = snaps.size();
  Collected c;
  c.run.go_runtime = go_runtime;
  analysis::SiteSeriesBuilder sites(n, site_options);
  Symbolizer symbolizer;
  bool symbol_note = false;
  const Snapshot* before = nullptr;
  for (size_t i = 0; i < n; ++i) {
    const Snapshot& s = snaps[i];
    c.run.t_s.push_back(s.t_s);
    c.run.phase.push_back(s.phase);
    c.refs.push_back(report::SnapshotRef{s.t_s, analysis::to_string(s.phase), s.files});
    if (s.phase == Phase::kBaseline || before == nullptr) before = &s;
    for (const auto& [signal, original] : s.profiles) {
      Profile p = original;
      SymbolizeStats stats;
      auto ok = symbolizer.symbolize(p, &stats);
      if ((!ok || stats.resolved < stats.locations) && !symbol_note) {
        symbol_note = true;
        c.notes.push_back(ok ? std::to_string(stats.locations - stats.resolved) + " of " +
                                   std::to_string(stats.locations) +
                                   " locations could not be symbolized" + kDebugInfoHint
                             : "symbolizing: " + ok.error().message);
      }
      auto idx = value_index(p, signal);
      if (!idx) continue;
      if (signal == Signal::kHeap && c.run.sampling_rate == 0 && p.period > 0)
        c.run.sampling_rate = static_cast<double>(p.period);
      sites.mark_present(i, signal);
      std::optional<size_t> objects;
      if (signal == Signal::kHeap)
        if (auto o = select_sample_type(p, "inuse_objects"); o) objects = *o;
      for (const Sample& smp : p.samples)
        if (*idx < smp.values.size() && smp.values[*idx] != 0)
          sites.add(i, signal, frames_of(p, smp), static_cast<double>(smp.values[*idx]), smp.labels,
                    objects && *objects < smp.values.size()
                        ? static_cast<double>(smp.values[*objects])
                        : NAN);
      std::optional<double> total = total_of(p, *idx);
      static const std::map<Signal, const char*> kKeys = {{Signal::kHeap, "heap_inuse_bytes"},
                                                          {Signal::kMmap, "mmap_bytes"},
                                                          {Signal::kThreads, "threads"},
                                                          {Signal::kFds, "fds"},
                                                          {Signal::kGoroutines, "goroutines"}};
      bool from_proc =
          (signal == Signal::kThreads && s.proc.threads) || (signal == Signal::kFds && s.proc.fds);
      if (!from_proc) put(c.series, kKeys.at(signal), n, i, total);
      if (signal == Signal::kHeap && &s == &snaps.back()) {
        Profile b =
            before->profiles.count(Signal::kHeap) ? before->profiles.at(Signal::kHeap) : Profile{};
        (void)symbolizer.symbolize(b);
        c.flame = report::make_flame(flame_stacks(b), flame_stacks(p));
      }
    }
    auto d = [](const std::optional<int64_t>& v) {
      return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
    };
    put(c.series, "rss_bytes", n, i, d(s.proc.rss_bytes));
    put(c.series, "pss_bytes", n, i, d(s.proc.pss_bytes));
    put(c.series, "threads", n, i, d(s.proc.threads));
    put(c.series, "fds", n, i, d(s.proc.fds));
  }
  std::vector<std::string> wrappers;
  c.run.sites = sites.finish(&wrappers);
  if (!wrappers.empty()) {
    std::string list;
    for (size_t i = 0; i < wrappers.size() && i < 8; ++i) list += (i ? ", " : "") + wrappers[i];
    if (wrappers.size() > 8) list += " and " + std::to_string(wrappers.size() - 8) + " more";
    c.notes.push_back("allocator wrappers found (sites are their callers): " + list);
  }
  collect_metrics(session, c);
  static const std::map<std::string, Signal> kTotals = {
      {"heap_inuse_bytes", Signal::kHeap}, {"mmap_bytes", Signal::kMmap},
      {"threads", Signal::kThreads},       {"fds", Signal::kFds},
      {"goroutines", Signal::kGoroutines}, {"rss_bytes", Signal::kRss}};
  for (const auto& [key, values] : c.series)
    if (auto it = kTotals.find(key); it != kTotals.end()) c.run.totals[it->second] = values;
  return c;
}

Result<void> write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error("writing " + path);
  return {};
}

}  // namespace

report::Report build_report(const Session& session, const ReportContext& ctx) {
  Collected c = collect(session, ctx.go_runtime, ctx.options.sites);
  c.run.requested_rate = ctx.requested_rate;
  if (session.round_ends().size() > 1) c.run.first_round_end_s = session.round_ends().front();
  if (ctx.limit_bytes) c.run.limit_bytes = static_cast<double>(*ctx.limit_bytes);
  analysis::Analysis a = analysis::analyze(c.run, ctx.options);
  report::Report r;
  r.verdict = a.verdict;
  r.summary = a.summary;
  r.target = ctx.target;
  r.started_at = session.started_at();
  r.duration_s = session.snapshots().empty() ? 0 : session.snapshots().back().t_s;
  r.interval_s = session.options().interval_s;
  r.limit_bytes = ctx.limit_bytes;
  r.limit_source = ctx.limit_source;
  r.phases = session.phases();
  r.t_s = c.run.t_s;
  r.series = std::move(c.series);
  r.findings = std::move(a.findings);
  r.flame = std::move(c.flame);
  r.snapshots = std::move(c.refs);
  r.notes = session.notes();
  for (std::string& n : a.notes) r.notes.push_back(std::move(n));
  for (std::string& n : c.notes) r.notes.push_back(std::move(n));
  return r;
}

Result<void> write_report_files(const report::Report& r, const std::string& dir) {
  std::string json = report::to_json(r);
  if (auto ok = write_file(dir + "/report.json", json); !ok) return ok;
  if (auto ok = write_file(dir + "/report.html", html::render_html_report(json)); !ok) return ok;
  if (auto ok = write_file(dir + "/growth.folded", report::folded(r.flame.growth)); !ok) return ok;
  return write_file(dir + "/final.folded", report::folded(r.flame.final));
}

}  // namespace leakscope::cli
