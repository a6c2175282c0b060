// What `run`, `watch` and `report` share: option parsing helpers, the default output
// directory, and the last step of every run: analyse, write the files, print, pick the exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/detect_analyze.h"
#include "cli/detect_session.h"
#include "core/util/result.h"

namespace leakscope::cli {

// "512M", "1GiB", "65536" -> bytes; nullopt when malformed.
std::optional<int64_t> parse_size(const std::string& text);

// "leakscope-<verb>-YYYYmmdd-HHMMSS" in the current directory.
std::string default_out_dir(const std::string& verb);

// Options every detective verb takes.
struct DetectOptions {
  double interval_s = 1;
  std::string out_dir;
  bool json = false;
  std::string limit;                  // --limit, as typed
  std::string suppress;               // --suppress FILE
  std::string metrics;                // --metrics URL: the target's Prometheus endpoint
  std::vector<std::string> wrappers;  // --wrapper REGEX, repeatable
};

// The help text of --wrapper, shared by run, watch and diff.
inline constexpr const char* kWrapperHelp =
    "an allocator wrapper of the program (regex on function names, e.g. '^zmalloc$'; "
    "repeatable): cut from stacks like malloc, so the site is its caller";

// The help text of --metrics, shared by run and watch.
inline constexpr const char* kMetricsHelp =
    "the target's Prometheus metrics URL (e.g. http://127.0.0.1:8080/metrics), scraped at every "
    "snapshot: a metric family whose series keep growing is reported";

// Reads --metrics into `so`; with none and a pprof source, asks the session to look for
// BASE/metrics. An error is a usage error.
Result<void> prepare_metrics(const DetectOptions& o, SessionOptions& so);

// Reads --limit/--suppress/--wrapper into `ctx` (the cgroup limit of `pid` when no --limit).
// An error is a usage error.
Result<void> prepare_context(const DetectOptions& o, pid_t pid, ReportContext& ctx);

// Analyses the session, writes the files, prints the text report (or JSON) on stdout. Returns
// kExitLeakFound, kExitOk, or kExitError when `error` is not empty (printed last, after the
// partial report, as "leakscope: error: ...").
int finish_run(const Session& session, const ReportContext& ctx, const DetectOptions& o,
               const std::string& error);

// True when stderr is a terminal (the progress line is shown only then).
bool stderr_is_tty();

}  // namespace leakscope::cli
