// From a session's snapshots to the report: symbolize every profile (one cached Symbolizer for
// the run, so each address is resolved once), turn samples into per-site series, run the
// analysis, assemble the report model, and write DIR/report.json, DIR/report.html,
// DIR/growth.folded and DIR/final.folded.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/detect_session.h"
#include "core/analysis/analysis.h"
#include "core/report/report.h"

namespace leakscope::cli {

struct ReportContext {
  report::Target target;
  std::optional<int64_t> limit_bytes;
  std::optional<std::string> limit_source;
  analysis::AnalysisOptions options;
  bool go_runtime = false;
  double requested_rate = 0;  // --rate in bytes; the analysis says so when the profile is coarser
  // What the run could not see, said as a note; a "no leak" verdict becomes "inconclusive".
  std::string blind;
};

// What the report says of a run beyond its model: when it started, its pacing, its notes.
struct RunInfo {
  std::string started_at;
  double interval_s = 1;
  std::vector<double> round_ends;  // the times the load's rounds ended
  std::vector<std::string> notes;  // the session's, before the analysis's
};

// Never fails: what cannot be read becomes a note in the report.
report::Report build_report(analysis::RunModel model, const RunInfo& info,
                            const ReportContext& context);
// The same, of a live session (its run model, labels of the metrics scraped, notes).
report::Report build_report(const Session& session, const ReportContext& context);

// Writes the report's files into `dir`; the error names the file that failed.
Result<void> write_report_files(const report::Report& report, const std::string& dir);

}  // namespace leakscope::cli
