// leakscope watch [options] TARGET: the same analysis on a service that is already running, for
// --duration seconds or until Ctrl-C. TARGET is an agent's or a Go service's debug URL
// ("127.0.0.1:6060", "http://host:port/debug/pprof/") or a PID, which gives /proc figures only
// (RSS, PSS, threads, fds: no stacks, and the report says so). Every snapshot is in the one
// phase "watch": with no idle phase to compare against, a leak is growth that is still going on
// at the end (judge.h).
#include <dirent.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "cli/command.h"
#include "cli/detect_checks.h"
#include "cli/detect_cli.h"
#include "cli/detect_gc.h"
#include "cli/detect_probe.h"

namespace leakscope::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct WatchOptions {
  DetectOptions detect;
  double duration_s = 60;
  pid_t pid = 0;
  std::string gc = "every=10";  // production-safe: a forced GC every 10 snapshots (detect_gc.h)
  std::string target;
};

std::optional<pid_t> as_pid(const std::string& s) {
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), pid);
  if (ec != std::errc() || end != s.data() + s.size() || pid <= 0) return std::nullopt;
  return pid;
}

Result<Source> probe(const Url& url) {
  Scraper s(url);
  return probe_source(s);
}

// What a watch of `pid` cannot see, said in the report rather than left as a silent gap; empty
// when it sees everything /proc has.
std::string unreadable(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d != nullptr) {
    closedir(d);
    return "";
  }
  return dir + " is not readable (" + std::strerror(errno) +
         "; another user's process?): descriptor leaks invisible. Run leakscope as that user, or "
         "as root, to see them";
}

int watch_command(WatchOptions& o) {
  if (o.detect.interval_s <= 0 || o.duration_s <= 0) {
    fail("--interval and --duration must be positive");
    return kExitUsage;
  }
  SessionOptions so;
  ReportContext ctx;
  if (auto pid = as_pid(o.target)) {
    so.source = Source::kProc;
    so.pid = *pid;
    if (!read_proc_figures(*pid)) return fail("no process " + o.target);
  } else {
    auto url = parse_url(o.target);
    if (!url) {
      fail("TARGET: " + url.error().message);
      return kExitUsage;
    }
    if (o.pid != 0 && !read_proc_figures(o.pid))
      return fail("--pid: no process " + std::to_string(o.pid));
    auto source = probe(*url);
    if (!source) return fail(source.error().message);
    so.source = *source;
    so.url = *url;
    so.pid = o.pid;
    ctx.target.url = url->text();
  }
  ctx.target.source = to_string(so.source);
  ctx.go_runtime = so.source == Source::kPprof;
  if (so.pid > 0) ctx.target.pid = so.pid;
  if (auto ok = prepare_context(o.detect, so.pid, ctx); !ok) {
    fail(ok.error().message);
    return kExitUsage;
  }
  if (so.pid > 0) ctx.blind = unreadable(so.pid);
  if (o.detect.out_dir.empty()) o.detect.out_dir = default_out_dir("watch");
  so.interval_s = o.detect.interval_s;
  so.out_dir = o.detect.out_dir;
  so.run.sites = ctx.options.sites;
  so.run.go_runtime = ctx.go_runtime;
  auto gc = parse_gc(o.gc);
  if (!gc) {
    fail("--gc: '" + o.gc + "' is not never, each or every=N");
    return kExitUsage;
  }
  so.gc_every = *gc;
  so.progress = stderr_is_tty();
  so.progress_log = !so.progress;
  if (auto ok = prepare_metrics(o.detect, so); !ok) {
    fail(ok.error().message);
    return kExitUsage;
  }
  Session session(so);
  if (auto opened = session.open(); !opened) return fail(opened.error().message);
  if (so.source == Source::kPprof) session.add_note(gc_note(*gc, so.interval_s));
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  std::string error;
  session.run_phase(analysis::Phase::kWatch, o.duration_s, [&] {
    if (g_stop) return true;
    if (so.pid > 0 && !read_proc_figures(so.pid)) {
      error = "process " + std::to_string(so.pid) + " exited during the watch";
      return true;
    }
    return false;
  });
  if (ctx.blind.empty()) ctx.blind = missing_heap(session);
  session.clear_progress();
  return finish_run(session, ctx, o.detect, error);
}

const RegisterCommand kWatch{{
    "watch",
    "watch a running service (debug URL or PID) and report what leaks",
    [](CLI::App& sub) -> std::function<int()> {
      auto o = std::make_shared<WatchOptions>();
      sub.add_option("--duration", o->duration_s, "seconds to watch (default 60; Ctrl-C ends)");
      sub.add_option("--interval", o->detect.interval_s, "seconds between snapshots (default 1)");
      sub.add_option("--gc", o->gc, kGcHelp);
      sub.add_option("--pid", o->pid, "with a URL target: also read this process's /proc figures");
      sub.add_option("--metrics", o->detect.metrics, kMetricsHelp);
      sub.add_option("--out", o->detect.out_dir, "output directory (default leakscope-watch-DATE)");
      sub.add_flag("--json", o->detect.json, "print report.json instead of the text report");
      sub.add_option("--limit", o->detect.limit, "memory limit for the forecast, e.g. 512M");
      sub.add_option("--suppress", o->detect.suppress, "file of function patterns to ignore");
      sub.add_option("--wrapper", o->detect.wrappers, kWrapperHelp)->allow_extra_args(false);
      sub.add_option("target", o->target, "debug URL (agent or Go net/http/pprof) or PID")
          ->required();
      return [o] { return watch_command(*o); };
    },
}};

}  // namespace
}  // namespace leakscope::cli
