// A run directory read back: `leakscope report --reanalyse DIR` rebuilds the run model from
// DIR/series.json (or, when the run never ended, from DIR/series.jsonl as far as it got) and the
// profiles in DIR/snapshots/, with no process started, and analyses it again: with other
// suppressions or wrappers, with a newer leakscope, or after leakscope itself was killed. The
// golden test (tests/integration/report_golden.sh) interprets recorded snapshots this way.
#pragma once

#include <string>

#include "cli/detect_analyze.h"
#include "core/util/result.h"

namespace leakscope::cli {

struct RunDir {
  analysis::RunModel model;
  RunInfo info;
  report::Target target;
};

// Reads and interprets the run in `dir`; ctx.options.sites names the sites. A snapshot's profile
// that cannot be read is a gap in its series, and a note.
Result<RunDir> read_run_dir(const std::string& dir, const analysis::SiteOptions& sites);

}  // namespace leakscope::cli
