// leakscope report DIR: re-renders a run from DIR/report.json: the text report (or the JSON
// with --json) and DIR/report.html and the folded stacks, rewritten. --suppress FILE marks the
// findings a pattern matches and recomputes the verdict, so an accepted site can be silenced
// after the fact without running again. --reanalyse (or a DIR without report.json: leakscope was
// killed) interprets the run again from its snapshots (run_dir.h), with --suppress, --wrapper
// and --limit applied to the analysis itself. Exit codes as for run: 3 when a leak remains.
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "cli/detect_cli.h"
#include "cli/run_dir.h"

namespace leakscope::cli {
namespace {

struct ReportOptions {
  std::string dir;
  std::string suppress;
  bool json = false;
  bool reanalyse = false;
  std::vector<std::string> wrappers;
  std::string limit;
};

void recompute_verdict(report::Report& r) {
  auto worst = analysis::overall_verdict(r.findings);
  if (worst != r.verdict && r.verdict != analysis::Verdict::kInconclusive) {
    r.verdict = worst;
    r.summary = std::string(analysis::to_string(worst)) + " after suppressions; was: " + r.summary;
  }
}

// The run interpreted again from its snapshots.
Result<report::Report> reanalyse(const ReportOptions& o) {
  DetectOptions d;
  d.suppress = o.suppress;
  d.wrappers = o.wrappers;
  d.limit = o.limit;
  ReportContext ctx;
  if (auto ok = prepare_context(d, 0, ctx); !ok) return make_error(ok.error().message);
  auto run = read_run_dir(o.dir, ctx.options.sites);
  if (!run) return make_error(run.error().message);
  ctx.target = run->target;
  ctx.go_runtime = ctx.target.source == "pprof";
  return build_report(std::move(run->model), run->info, ctx);
}

int report_command(const ReportOptions& o) {
  Result<report::Report> r = make_error("");
  const bool fresh = o.reanalyse || !std::filesystem::exists(o.dir + "/report.json");
  if (fresh) {
    r = reanalyse(o);
    if (!r) return fail(r.error().message);
  } else {
    auto text = read_text_file(o.dir + "/report.json");
    if (!text) return fail(text.error().message);
    r = report::from_json(*text);
    if (!r) return fail(o.dir + "/" + r.error().message);
  }
  if (!o.suppress.empty() && !fresh) {  // a fresh analysis applied them already
    auto s = analysis::read_suppressions(o.suppress);
    if (!s) return fail(s.error().message);
    analysis::apply_suppressions(*s, r->findings);
    recompute_verdict(*r);
  }
  auto written = write_report_files(*r, o.dir);
  if (o.json)
    std::fputs(report::to_json(*r).c_str(), stdout);
  else
    std::printf("%s\nreport: %s/report.html\n", report::render_text(*r).c_str(), o.dir.c_str());
  std::fflush(stdout);
  if (!written) return fail(written.error().message);
  return r->verdict == analysis::Verdict::kLeak ? kExitLeakFound : kExitOk;
}

const RegisterCommand kReport{{
    "report",
    "re-render the report of a run or watch directory",
    [](CLI::App& sub) -> std::function<int()> {
      auto o = std::make_shared<ReportOptions>();
      sub.add_option("dir", o->dir, "the --out directory of a run or watch")->required();
      sub.add_option("--suppress", o->suppress, "file of function patterns to ignore");
      sub.add_flag("--json", o->json, "print report.json instead of the text report");
      sub.add_flag("--reanalyse", o->reanalyse,
                   "interpret the run again from DIR/snapshots (the default when DIR has no "
                   "report.json)");
      sub.add_option("--wrapper", o->wrappers, kWrapperHelp)->allow_extra_args(false);
      sub.add_option("--limit", o->limit, "with --reanalyse: memory limit for the forecast");
      return [o] { return report_command(*o); };
    },
}};

}  // namespace
}  // namespace leakscope::cli
