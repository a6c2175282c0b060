// leakscope fleet --prometheus URL [--selector S] [--window D] [--step D] [--limit B]
//                 [--debug-url T] [--json] [--out DIR]
// RESIN's two stages on the Prometheus people already run: read every instance's memory series
// over the window and judge them (core/fleet), then take profiles from the top suspects whose
// debug endpoint is known and name the growing site as `watch` does (the same Session and
// analysis). docs/fleet.md is the user's guide and the JSON schema.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "cli/command.h"
#include "cli/detect_cli.h"
#include "cli/detect_probe.h"
#include "cli/fleet_prom.h"

namespace leakscope::cli {
namespace {

struct FleetOptions {
  std::string prometheus, selector, window = "6h", step = "30s", limit, debug_url, out_dir;
  double end_s = 0;
  double profile_s = 20;
  int max_profiles = 3;
  bool json = false;
};

// The host of an instance label: "10.0.0.5:8080" -> "10.0.0.5", "[::1]:80" -> "::1".
std::string host_of(const std::string& instance) {
  if (!instance.empty() && instance[0] == '[') return instance.substr(1, instance.find(']') - 1);
  return instance.substr(0, instance.rfind(':'));
}

// "{host}" and "{instance}" from the instance label; "{NAME}" from the target's label NAME.
std::string expand(std::string tmpl, const fleet::InstanceVerdict& v) {
  std::map<std::string, std::string> values = v.labels;
  values["host"] = host_of(v.instance);
  values["instance"] = v.instance;
  for (const auto& [name, value] : values) {
    std::string key = "{" + name + "}";
    for (size_t p; (p = tmpl.find(key)) != std::string::npos;) tmpl.replace(p, key.size(), value);
  }
  return tmpl;
}

// Agent or Go, as `watch` tells them, with shorter timeouts (one suspect of many).
std::optional<Source> probe(const Url& url) {
  Scraper s(url);
  s.set_timeouts(2, 5);
  auto source = probe_source(s);
  return source ? std::optional<Source>(*source) : std::nullopt;
}

std::string watch_hint(const std::string& url) {
  return "run `leakscope watch --duration 600 " + url +
         "` against its agent (LD_PRELOAD=libleakscope.so LEAKSCOPE_ADDR=...) or its "
         "net/http/pprof";
}

// The second stage for one suspect: snapshots `profile_s` apart, analysed as `watch` does.
void take_sites(fleet::InstanceVerdict& v, const FleetOptions& o, const std::string& dir) {
  std::string text = expand(o.debug_url, v);
  auto url = parse_url(text);
  std::optional<Source> source;
  if (url) source = probe(*url);
  if (!source) {
    v.next_step = "no debug endpoint answers at " + text + "; " + watch_hint(text);
    return;
  }
  SessionOptions so;
  so.source = *source;
  so.url = *url;
  so.interval_s = std::max(0.5, o.profile_s / 15);
  so.out_dir = dir;
  Session session(so);
  if (auto opened = session.open(); !opened) {
    v.next_step = opened.error().message;
    return;
  }
  session.run_phase(analysis::Phase::kWatch, o.profile_s, {});
  ReportContext ctx;
  ctx.target.source = to_string(so.source);
  ctx.target.url = url->text();
  ctx.go_runtime = so.source == Source::kPprof;
  report::Report r = build_report(session, ctx);
  (void)write_report_files(r, dir);
  for (const analysis::Finding& f : r.findings) {
    if (f.verdict != analysis::Verdict::kLeak || f.suppressed) continue;
    std::string name = f.kind == analysis::Signal::kMetrics ? f.metric : f.site.function;
    v.sites.push_back({analysis::to_string(f.kind), name, f.site.file, f.site.line});
  }
  if (v.sites.empty())
    v.next_step = "profiles over " + std::to_string(int(o.profile_s)) +
                  " s showed no growing site; " + watch_hint(text);
}

void profile_suspects(fleet::FleetReport& r, const FleetOptions& o, const std::string& dir) {
  int taken = 0;
  for (fleet::InstanceVerdict& v : r.instances) {
    if (v.verdict != analysis::Verdict::kLeak) continue;
    if (o.debug_url.empty()) {
      v.next_step = "give --debug-url 'http://{host}:6060' to take its profiles, or " +
                    watch_hint("http://" + host_of(v.instance) + ":6060");
      continue;
    }
    if (taken == o.max_profiles) {
      v.next_step = "not profiled (--max-profiles " + std::to_string(o.max_profiles) + "); " +
                    watch_hint(expand(o.debug_url, v));
      continue;
    }
    ++taken;
    std::string name = v.instance;
    for (char& c : name)
      if (c == ':' || c == '/' || c == '[' || c == ']') c = '_';
    take_sites(v, o, dir + "/profiles/" + name);
  }
}

Result<void> write_files(const fleet::FleetReport& r, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("creating " + dir + ": " + ec.message());
  for (auto [name, text] : {std::pair<std::string, std::string>{"fleet.json", fleet::to_json(r)},
                            {"fleet.txt", fleet::render_text(r, 1000)},
                            {"fleet.html", fleet::render_html(r)}}) {
    std::ofstream f(dir + "/" + name);
    f << text;
    if (!f) return make_error("writing " + dir + "/" + name);
  }
  return {};
}

int fleet_command(FleetOptions& o) {
  auto url = parse_url(o.prometheus);
  auto window = fleet::parse_duration(o.window);
  auto step = fleet::parse_duration(o.step);
  std::optional<int64_t> limit;
  if (!o.limit.empty()) limit = parse_size(o.limit);
  std::string bad = !url      ? "--prometheus: " + url.error().message
                    : !window ? "--window: '" + o.window + "' is not a duration"
                    : !step   ? "--step: '" + o.step + "' is not a duration"
                    : !o.limit.empty() && (!limit || *limit == 0)
                        ? "--limit: '" + o.limit + "' is not a size"
                    : !o.selector.empty() && o.selector.front() != '{'
                        ? "--selector: '" + o.selector + "' is not a {label=\"value\"} selector"
                        : "";
  if (!bad.empty()) {
    fail(bad);
    return kExitUsage;
  }
  fleet::Options fo;
  fo.window_s = *window;
  fo.end_s = o.end_s > 0 ? o.end_s
                         : std::floor(std::chrono::duration<double>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  if (limit) fo.limit_bytes = double(*limit);
  FleetQuery q;
  q.selector = o.selector;
  q.end_s = fo.end_s;
  q.start_s = fo.end_s - fo.window_s;
  // At most 1,000 points per series (Prometheus refuses more than 11,000); the counts need fewer.
  q.step_s = std::max(*step, fo.window_s / 1000);
  q.count_step_s = std::max(q.step_s, fo.window_s / 60);

  Prometheus prom(*url);
  auto data = load_fleet(prom, q);
  if (!data) return fail(data.error().message);
  fleet::FleetReport r = fleet::judge_fleet(data->instances, data->counts, fo);
  r.prometheus = url->text();
  r.selector = o.selector;
  r.step_s = q.step_s;
  if (q.step_s > *step)
    r.notes.push_back("step raised to " + std::to_string(int64_t(q.step_s)) +
                      " s: at most 1,000 points per series");
  size_t judged = 0;
  for (const auto& v : r.instances) judged += v.verdict != analysis::Verdict::kInconclusive;
  if (judged == 0)
    return fail("gaps in the data: no instance has enough points in the window to judge (" +
                std::to_string(r.instances.size()) + " instances, step " + o.step + ")");
  find_growing_labels(prom, q, r);
  if (std::string note = tsdb_note(prom); !note.empty()) r.notes.push_back(note);

  std::string dir = o.out_dir;
  bool temporary = dir.empty() && !o.debug_url.empty();
  if (temporary)
    dir = std::filesystem::temp_directory_path() / ("leakscope-fleet-" + std::to_string(getpid()));
  profile_suspects(r, o, dir);
  if (temporary) std::filesystem::remove_all(dir);
  if (!o.out_dir.empty())
    if (auto w = write_files(r, o.out_dir); !w) return fail(w.error().message);
  std::fputs(o.json ? fleet::to_json(r).c_str() : fleet::render_text(r).c_str(), stdout);
  std::fflush(stdout);
  return fleet::any_leak(r) ? kExitLeakFound : kExitOk;
}

const RegisterCommand kFleet{{
    "fleet",
    "find the leaking instances in a Prometheus server's memory series",
    [](CLI::App& sub) -> std::function<int()> {
      auto o = std::make_shared<FleetOptions>();
      sub.add_option("--prometheus", o->prometheus, "Prometheus base URL, e.g. http://prom:9090")
          ->required();
      sub.add_option("--selector", o->selector, "label matchers, e.g. '{job=\"api\"}'");
      sub.add_option("--window", o->window, "how far back to look (default 6h)");
      sub.add_option("--step", o->step, "resolution of the series (default 30s)");
      sub.add_option("--end", o->end_s, "the window's end, Unix seconds (default now)");
      sub.add_option("--limit", o->limit,
                     "memory limit for the forecast, e.g. 512M "
                     "(default: container_spec_memory_limit_bytes)");
      sub.add_option(
          "--debug-url", o->debug_url,
          "suspects' debug endpoint, e.g. 'http://{host}:6060' ({host}, {instance}, {LABEL})");
      sub.add_option("--profile-seconds", o->profile_s, "how long to profile each suspect (20)");
      sub.add_option("--max-profiles", o->max_profiles, "suspects to profile (default 3)");
      sub.add_flag("--json", o->json, "print fleet.json instead of the text report");
      sub.add_option("--out", o->out_dir, "write fleet.json, fleet.txt, fleet.html and profiles");
      return [o] { return fleet_command(*o); };
    },
}};

}  // namespace
}  // namespace leakscope::cli
