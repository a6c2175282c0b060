// leakscope run [options] -- PROGRAM [ARGS...]: start a service under the agent (or with its own
// net/http/pprof), drive it through baseline, load and cooldown, and say what leaked.
//
// Defaults (README, "The detective"): a 5 s idle baseline, the load phase for as long as --load
// runs (or --duration without one; a short load runs again in rounds), a 10 s cooldown, a
// snapshot a second (as fast as 0.2 s under load: core/analysis/pacing.cc), and a heap sampling
// rate of 16 KiB instead of the agent's 512 KiB: a run is short, and the judge asks for a whole
// noise floor of growth in the second half of the load (docs/analysis.md); at 16 KiB a leak of
// 1 KiB per request is about 300 samples after 5,000 requests instead of 10. A run is a test
// bench, not production: the finer rate's cost is the agent's, for a minute.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "cli/command.h"
#include "cli/detect_checks.h"
#include "cli/detect_cli.h"
#include "cli/detect_gc.h"
#include "cli/detect_probe.h"
#include "cli/detect_target.h"
#include "core/analysis/pacing.h"

namespace leakscope::cli {
namespace {

using analysis::Phase;

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) { g_interrupted = true; }

struct RunOptions {
  DetectOptions detect;
  std::string load;
  double baseline_s = 5;
  double cooldown_s = 10;
  double duration_s = 30;  // load phase without --load
  std::string rate = "16K";
  std::string pprof;
  analysis::RoundsPolicy rounds;
  double startup_timeout_s = 20;
  bool load_may_fail = false;
  std::string gc = "each";  // a run is a test bench: every snapshot current (detect_gc.h)
  std::vector<std::string> program;
};

// Everything one run holds while it goes.
struct Run {
  RunOptions o;
  Child target;
  std::optional<Url> url;
  std::string announce_path;
  std::string error;        // set once something went wrong; phases stop
  std::string exe_checked;  // the /proc/PID/exe last found not to be Go

  std::string target_log() const { return o.detect.out_dir + "/target.log"; }
  // The last lines of the target's output, for an error that ends the run early.
  std::string target_tail() const { return output_tail(target_log(), o.program[0]); }
};

// A Go program under the agent: Go allocates without malloc, so the heap stays empty and the
// run would end in a confident "no leak". Checked on the program before it starts.
Result<void> refuse_go_under_agent(const RunOptions& o) {
  if (!o.pprof.empty()) return {};
  auto path = resolve_program(o.program[0]);
  if (path && is_go_program_file(*path)) return make_error(go_under_agent_message(o.program[0]));
  return {};
}

// The same on what actually runs, once started: a wrapper script that execs a Go binary.
Result<void> check_running_exe(Run& run) {
  char buf[4096];
  std::string link = "/proc/" + std::to_string(run.target.pid()) + "/exe";
  ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0 || std::string(buf, static_cast<size_t>(n)) == run.exe_checked) return {};
  run.exe_checked.assign(buf, static_cast<size_t>(n));
  if (is_go_program_file(link)) return make_error(go_under_agent_message(run.exe_checked));
  return {};
}

Result<void> start_target(Run& run) {
  std::vector<std::pair<std::string, std::string>> env;
  auto rate = parse_size(run.o.rate);
  if (!rate || *rate < 1) return make_error("--rate: '" + run.o.rate + "' is not a size");
  if (!run.o.pprof.empty()) {
    // A Go target samples at runtime.MemProfileRate, which GODEBUG sets before main runs.
    const char* godebug = getenv("GODEBUG");
    env = {{"GODEBUG", (godebug && *godebug ? std::string(godebug) + "," : std::string()) +
                           "memprofilerate=" + std::to_string(*rate)}};
  } else {
    std::string agent = self_dir() + "/libleakscope.so";
    if (!std::filesystem::exists(agent))
      return make_error("the agent " + agent + " is missing (build it, or use --pprof URL)");
    const char* preload = getenv("LD_PRELOAD");
    env = {{"LD_PRELOAD", agent + (preload && *preload ? ":" + std::string(preload) : "")},
           {"LEAKSCOPE_ADDR", "127.0.0.1:0"},
           {"LEAKSCOPE_ANNOUNCE", run.announce_path},
           {"LEAKSCOPE_RATE", std::to_string(*rate)}};
    // A run is a short diagnosis: every sample counts, so the agent's sample budget (which
    // coarsens allocation-heavy threads, 20,000 samples per CPU second by default) is off unless
    // the environment sets one. On the demo under its load the budget raised the rate 16x and
    // two leaks of 1.5 MiB were lost in the floor.
    const char* budget = getenv("LEAKSCOPE_MAX_SAMPLES_PER_SEC");
    env.push_back({"LEAKSCOPE_MAX_SAMPLES_PER_SEC", budget && *budget ? budget : "0"});
  }
  auto child = Child::spawn(run.o.program, env, run.target_log());
  if (!child) return child.error();
  run.target = std::move(*child);
  return {};
}

// Polls until the debug server answers, the target dies, or the startup timeout passes.
Result<void> wait_for_debug_server(Run& run) {
  const std::string& prog = run.o.program[0];
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(run.o.startup_timeout_s);
  std::optional<Url> url;
  if (!run.o.pprof.empty()) {
    auto parsed = parse_url(run.o.pprof);
    if (!parsed) return parsed.error().wrap("--pprof");
    url = *parsed;
  }
  PprofProbe probe;
  while (std::chrono::steady_clock::now() < deadline && !g_interrupted) {
    if (run.target.exited())
      return make_error(prog + " " + run.target.how_it_ended() +
                        " before its debug server answered" + run.target_tail());
    if (run.o.pprof.empty()) {
      if (auto go = check_running_exe(run); !go) return go;
      if (!url)
        if (auto text = read_text_file(run.announce_path))
          if (auto parsed = parse_announce(*text)) url = *parsed;
      if (url && Scraper(*url).answers("/debug/pprof/heap")) {
        run.url = url;
        return {};
      }
    } else {
      auto answer = probe.check(*url, run.target.pid(), prog);
      if (!answer) return make_error(answer.error().message + run.target_tail());
      if (*answer) {
        run.url = url;
        return {};
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (g_interrupted) return make_error("interrupted");
  if (!run.o.pprof.empty())
    return make_error(prog + " never answered on " + url->text() + "/debug/pprof/ within " +
                      std::to_string(static_cast<int>(run.o.startup_timeout_s)) + " s");
  return make_error("the agent in " + prog + " never announced its debug port within " +
                    std::to_string(static_cast<int>(run.o.startup_timeout_s)) +
                    " s (is it a dynamically linked program?)");
}

// The stop condition of every phase: the target died, or the user pressed Ctrl-C.
bool target_gone(Run& run, Session& session, const char* phase) {
  if (!run.error.empty()) return true;
  if (g_interrupted) {
    run.error = std::string("interrupted during the ") + phase + " phase";
  } else if (run.target.exited()) {
    run.error = run.o.program[0] + " " + run.target.how_it_ended() + " during the " + phase +
                " phase, " + std::to_string(static_cast<int>(session.now_s())) + " s into the run" +
                run.target_tail();
  } else if (run.o.pprof.empty()) {
    // A wrapper that execs a Go program after the agent in it announced its port.
    if (auto go = check_running_exe(run); !go) run.error = go.error().message;
  }
  return !run.error.empty();
}

// Why the load did not load the target: it exited non-zero (127: no such command; curl's 7:
// connection refused), or its own summary says it sent nothing. Empty when it looks fine.
std::string load_failure(Child& load, const std::string& log_path) {
  auto log = read_text_file(log_path);
  if (load.exit_code() != 0) return "the load command " + load.how_it_ended();
  if (std::string nothing = log ? load_sent_nothing(*log) : ""; !nothing.empty())
    return "the load command sent no request (" + nothing + ")";
  return "";
}

// One run of the load command, snapshotting as fast as affordable until it exits. False when it
// could not start, the target died, or it failed (a failed load is not repeated; unless
// --load-may-fail, it is an error: a run that measured no load cannot say there is no leak).
bool load_round(Run& run, Session& session, bool continuing) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"LEAKSCOPE_TARGET_PID", std::to_string(run.target.pid())},
      {"LEAKSCOPE_OUT", run.o.detect.out_dir}};
  auto load = Child::spawn({"/bin/sh", "-c", run.o.load}, env, run.o.detect.out_dir + "/load.log");
  if (!load) {
    run.error = load.error().message;
    return false;
  }
  session.run_phase(
      Phase::kLoad, -1, [&] { return target_gone(run, session, "load") || load->exited(); }, true,
      continuing);
  if (!load->exited()) {
    load->stop(2);
    return false;
  }
  std::string log_path = run.o.detect.out_dir + "/load.log";
  std::string failed = load_failure(*load, log_path);
  if (failed.empty()) return true;
  if (run.o.load_may_fail)
    session.add_note(failed + " (--load-may-fail: the run went on)");
  else
    run.error = failed +
                ": the run measured no load, so it cannot say there is no leak (pass "
                "--load-may-fail when a failing load is expected)" +
                output_tail(log_path, "the load command", 5);
  return false;
}

// The load phase: snapshots as fast as they are affordable, and a short load run again in
// rounds (core/analysis/pacing.h says why and how far).
void load_phase(Run& run, Session& session) {
  if (run.o.load.empty()) {
    session.run_phase(
        Phase::kLoad, run.o.duration_s, [&] { return target_gone(run, session, "load"); }, true);
    return;
  }
  const double start = session.now_s();
  double first_s = 0, last_s = 0;
  int done = 0;
  bool ok = true;
  do {
    double t = session.now_s();
    ok = load_round(run, session, done > 0);
    last_s = session.now_s() - t;
    if (done++ == 0) first_s = last_s;
    if (!run.error.empty()) return;
    session.take(Phase::kLoad);  // the state right at the end of each round
    session.end_round();
  } while (ok && analysis::another_round(run.o.rounds, done, session.now_s() - start, last_s));
  std::string note = analysis::rounds_note(run.o.rounds, done, session.now_s() - start, first_s);
  if (!note.empty()) session.add_note(note);
  if (auto log = read_text_file(run.o.detect.out_dir + "/load.log")) {  // every round's output
    LoadSummaries runs = load_summaries(*log);
    if (runs.empty > 0 && runs.empty < runs.runs)
      session.add_note(std::to_string(runs.empty) + " of the load's " + std::to_string(runs.runs) +
                       " wrk/ab runs sent no request (first: " + runs.first_empty + ")");
  }
}

// A heap that did not move the whole run under the agent: a Go program in the target's tree (a
// wrapper that started it) is an error; a heap that stayed empty was not seen, which the report
// says, and "no leak" becomes "inconclusive".
void check_heap_seen(Run& run, Session& session, ReportContext& ctx) {
  if (!run.error.empty() || !run.o.pprof.empty()) return;
  if (auto go = check_running_exe(run); !go) {
    run.error = go.error().message;
    return;
  }
  HeapSeen seen = heap_seen(session);
  if (seen == HeapSeen::kMoving) return;
  if (auto go = go_in_tree(run.target.pid())) {
    run.error = go_under_agent_message(*go);
  } else if (seen == HeapSeen::kEmpty) {
    ctx.blind = "the agent sampled no heap allocation in " + run.o.program[0] +
                " during the whole run (at --rate " + run.o.rate +
                "): heap leaks invisible. Does it allocate through malloc?";
  }
}

int run_command(RunOptions& o) {
  if (o.detect.interval_s <= 0) {
    fail("--interval must be positive");
    return kExitUsage;
  }
  auto gc = parse_gc(o.gc);
  if (!gc) {
    fail("--gc: '" + o.gc + "' is not never, each or every=N");
    return kExitUsage;
  }
  if (o.detect.out_dir.empty()) o.detect.out_dir = default_out_dir("run");
  std::error_code ec;
  std::filesystem::create_directories(o.detect.out_dir, ec);
  if (ec) return fail(o.detect.out_dir + ": " + ec.message());
  Run run;
  run.o = o;
  run.announce_path = std::filesystem::absolute(o.detect.out_dir + "/agent.announce").string();
  std::filesystem::remove(run.announce_path, ec);
  ReportContext ctx;
  ctx.target.command = o.program;
  ctx.target.source = o.pprof.empty() ? "agent" : "pprof";
  ctx.go_runtime = !o.pprof.empty();
  if (auto rate = parse_size(o.rate)) ctx.requested_rate = static_cast<double>(*rate);
  SessionOptions so;
  so.source = o.pprof.empty() ? Source::kAgent : Source::kPprof;
  if (auto ok = prepare_metrics(o.detect, so); !ok) {
    fail(ok.error().message);
    return kExitUsage;
  }
  signal(SIGINT, on_interrupt);
  signal(SIGTERM, on_interrupt);
  if (auto go = refuse_go_under_agent(o); !go) return fail(go.error().message);
  if (auto started = start_target(run); !started) return fail(started.error().message);
  ctx.target.pid = run.target.pid();
  if (auto ok = prepare_context(o.detect, run.target.pid(), ctx); !ok) {
    fail(ok.error().message);
    return kExitUsage;
  }

  so.pid = run.target.pid();
  so.interval_s = o.detect.interval_s;
  so.gc_every = *gc;
  so.run.sites = ctx.options.sites;
  so.run.go_runtime = ctx.go_runtime;
  so.out_dir = o.detect.out_dir;
  so.progress = stderr_is_tty();
  so.progress_log = !so.progress;
  auto ready = wait_for_debug_server(run);
  if (ready) so.url = run.url;
  ctx.target.url = run.url ? std::optional<std::string>(run.url->text()) : std::nullopt;
  Session session(so);
  if (auto opened = session.open(); !opened) return fail(opened.error().message);
  if (!o.pprof.empty() && *gc != 1) session.add_note(gc_note(*gc, so.interval_s));
  if (!ready) {
    // No debug server: keep what /proc shows of the target, then report the error.
    if (!run.target.exited()) session.take(Phase::kBaseline);
    run.target.stop();
    session.clear_progress();
    return finish_run(session, ctx, o.detect, ready.error().message);
  }
  session.run_phase(Phase::kBaseline, o.baseline_s,
                    [&] { return target_gone(run, session, "baseline"); });
  if (run.error.empty()) load_phase(run, session);
  if (run.error.empty())
    session.run_phase(Phase::kCooldown, o.cooldown_s,
                      [&] { return target_gone(run, session, "cooldown"); });
  check_heap_seen(run, session, ctx);
  if (ctx.blind.empty()) ctx.blind = missing_heap(session);
  run.target.stop();
  session.clear_progress();
  return finish_run(session, ctx, o.detect, run.error);
}

const RegisterCommand kRun{{
    "run",
    "start PROGRAM under the agent, drive baseline, load and cooldown, report what leaks",
    [](CLI::App& sub) -> std::function<int()> {
      auto o = std::make_shared<RunOptions>();
      sub.add_option("--load", o->load, "shell command whose run is the load phase");
      sub.add_option("--baseline", o->baseline_s, "idle seconds before the load (default 5)");
      sub.add_option("--cooldown", o->cooldown_s, "idle seconds after the load (default 10)");
      sub.add_option("--duration", o->duration_s,
                     "length of the load phase when there is no --load (default 30)");
      sub.add_option("--interval", o->detect.interval_s,
                     "seconds between snapshots (default 1; under load as fast as affordable, "
                     "down to 0.2)");
      sub.add_option("--rounds", o->rounds.rounds,
                     "run the load this many times (default 0: again while it is short, up to "
                     "30 s of load; 1 for a load that must not be repeated)")
          ->check(CLI::NonNegativeNumber);
      sub.add_option("--rate", o->rate,
                     "heap sampling rate in bytes, e.g. 512K (default 16K); for --pprof it is "
                     "passed to Go as GODEBUG=memprofilerate");
      sub.add_option("--pprof", o->pprof,
                     "use the target's own net/http/pprof at this URL (no agent)");
      sub.add_option("--metrics", o->detect.metrics, kMetricsHelp);
      sub.add_option("--gc", o->gc, kGcHelp);
      sub.add_option("--out", o->detect.out_dir, "output directory (default leakscope-run-DATE)");
      sub.add_flag("--json", o->detect.json, "print report.json instead of the text report");
      sub.add_option("--limit", o->detect.limit,
                     "memory limit for the forecast, e.g. 512M (default: the cgroup's)");
      sub.add_option("--suppress", o->detect.suppress, "file of function patterns to ignore");
      sub.add_option("--wrapper", o->detect.wrappers, kWrapperHelp)->allow_extra_args(false);
      sub.add_option("--startup-timeout", o->startup_timeout_s,
                     "seconds to wait for the debug server (default 20)");
      sub.add_flag("--load-may-fail", o->load_may_fail,
                   "a load command that exits non-zero or sends nothing is a note, not an error");
      sub.add_option("program", o->program, "the program and its arguments (after --)")->required();
      return [o] { return run_command(*o); };
    },
}};

}  // namespace
}  // namespace leakscope::cli
