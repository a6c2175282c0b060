// See detect_cli.h.
#include "cli/detect_cli.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "cli/command.h"

namespace leakscope::cli {

std::optional<int64_t> parse_size(const std::string& text) {
  int64_t v = 0;
  const char* b = text.data();
  const char* e = text.data() + text.size();
  auto [end, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || end == b || v < 0) return std::nullopt;
  std::string suffix(end, e);
  int shift = 0;
  if (suffix.empty() || suffix == "B")
    shift = 0;
  else if (suffix == "K" || suffix == "k" || suffix == "KiB" || suffix == "KB")
    shift = 10;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB" || suffix == "MB")
    shift = 20;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB" || suffix == "GB")
    shift = 30;
  else
    return std::nullopt;
  if (v > (INT64_MAX >> shift)) return std::nullopt;
  return v << shift;
}

std::string default_out_dir(const std::string& verb) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return "leakscope-" + verb + "-" + buf;
}

bool stderr_is_tty() { return isatty(STDERR_FILENO) == 1; }

Result<void> prepare_context(const DetectOptions& o, pid_t pid, ReportContext& ctx) {
  if (!o.limit.empty()) {
    auto limit = parse_size(o.limit);
    if (!limit || *limit == 0)
      return make_error("--limit: '" + o.limit + "' is not a size (e.g. 512M)");
    ctx.limit_bytes = *limit;
    ctx.limit_source = "flag";
  } else if (pid > 0) {
    if (auto limit = read_cgroup_memory_limit(pid)) {
      ctx.limit_bytes = *limit;
      ctx.limit_source = "cgroup";
    }
  }
  if (!o.suppress.empty()) {
    auto s = analysis::read_suppressions(o.suppress);
    if (!s) return s.error();
    ctx.options.suppressions = std::move(*s);
  }
  for (const std::string& w : o.wrappers)
    if (auto ok = analysis::check_wrapper_pattern(w); !ok)
      return make_error("--wrapper: " + ok.error().message);
  ctx.options.sites.wrappers = o.wrappers;
  for (const std::string& w : ctx.options.suppressions.wrappers)
    ctx.options.sites.wrappers.push_back(w);
  return {};
}

Result<void> prepare_metrics(const DetectOptions& o, SessionOptions& so) {
  if (o.metrics.empty()) {
    so.probe_metrics = so.source == Source::kPprof;
    return {};
  }
  auto url = parse_metrics_url(o.metrics);
  if (!url) return make_error("--metrics: " + url.error().message);
  so.metrics_url = *url;
  return {};
}

int finish_run(const Session& session, const ReportContext& ctx, const DetectOptions& o,
               const std::string& error) {
  session.write_series(ctx.target.command);
  report::Report r = build_report(session, ctx);
  if (!ctx.blind.empty()) {
    r.notes.push_back(ctx.blind);
    if (r.verdict == analysis::Verdict::kNoLeak) {
      r.verdict = analysis::Verdict::kInconclusive;
      r.summary = "inconclusive: nothing grew in what could be seen, and part could not (" +
                  ctx.blind.substr(0, ctx.blind.find(':')) + ": see the notes)";
    }
  }
  if (!error.empty()) {
    r.notes.push_back("incomplete run: " + error);
    if (r.verdict == analysis::Verdict::kNoLeak) r.verdict = analysis::Verdict::kInconclusive;
  }
  auto written = write_report_files(r, o.out_dir);
  if (o.json)
    std::fputs(report::to_json(r).c_str(), stdout);
  else if (session.snapshot_count() > 0)
    std::printf("%s\nreport: %s/report.html (and report.json, snapshots/)\n",
                report::render_text(r).c_str(), o.out_dir.c_str());
  std::fflush(stdout);
  if (!written) return fail(written.error().message);
  if (!error.empty()) {
    // The first line says what went wrong; quoted output, if any, follows it.
    size_t eol = std::min(error.find('\n'), error.size());
    return fail(error.substr(0, eol) + " (" + std::to_string(session.snapshot_count()) +
                " snapshots kept in " + o.out_dir + ")" + error.substr(eol));
  }
  return r.verdict == analysis::Verdict::kLeak ? kExitLeakFound : kExitOk;
}

}  // namespace leakscope::cli
