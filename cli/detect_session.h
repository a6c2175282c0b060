// A sampling session: snapshots of one target, taken every interval and phase by phase, each fed
// at once to the run model (analysis::RunBuilder, which symbolizes and reduces it, so the session
// holds no profile past the snapshot that brought it) and written to disk as it is taken (so a
// crash of the target, or of leakscope, leaves every snapshot so far readable):
//   DIR/snapshots/NNNN.<signal>.pb.gz   the profiles exactly as served (gzip'd pprof), which
//                                       `leakscope top` / `diff` and pprof open directly;
//   DIR/series.jsonl                    appended as snapshots are taken: a first line with the
//                                       schema "leakscope.series-log/v1" and the header fields
//                                       of series.json, then one line per snapshot as in
//                                       series.json's "snapshots";
//   DIR/series.json                     written when the run ends (write_series()), schema
//                                       "leakscope.series/v1": per snapshot its time, phase,
//                                       /proc figures, files, scrape errors and, with metrics,
//                                       the series count of every metric family ("metrics":
//                                       {"name": 12}, null when not scraped).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/detect_metrics.h"
#include "cli/detect_proc.h"
#include "cli/detect_scrape.h"
#include "core/analysis/finding.h"
#include "core/analysis/run_series.h"
#include "core/profile/profile.h"
#include "core/report/report.h"

namespace leakscope::cli {

class ProgressLog;

enum class Source { kAgent, kPprof, kProc };
const char* to_string(Source s);

struct Snapshot {
  double t_s = 0;
  analysis::Phase phase = analysis::Phase::kWatch;
  std::map<analysis::Signal, Profile> profiles;
  ProcFigures proc;
  std::map<std::string, std::string> files;  // signal -> path relative to DIR
  std::optional<MetricSeries> metrics;       // nullopt: no metrics endpoint, or its scrape failed
  std::vector<std::string> errors;
  double cost_s = 0;  // wall time spent taking it (fetch, decode, /proc, metrics)
};

struct SessionOptions {
  Source source = Source::kAgent;
  std::optional<Url> url;          // agent or pprof debug server
  std::optional<Url> metrics_url;  // the target's Prometheus endpoint (--metrics)
  bool probe_metrics = false;      // no metrics_url: try url + "/metrics" at the first snapshot
  pid_t pid = 0;                   // 0: no /proc figures
  double interval_s = 1;
  int gc_every = 1;  // Go heap: force a GC (?gc=1) every Nth snapshot, 0 never (detect_gc.h)
  std::string out_dir;
  bool progress = false;            // a one-line progress display on stderr
  bool progress_log = false;        // stderr is a log: a plain progress line every few seconds
  analysis::RunBuilderOptions run;  // site rule options, go_runtime, resolution bounds
};

class Session {
 public:
  explicit Session(SessionOptions options);
  ~Session();

  // Creates DIR/snapshots. Call once before anything else.
  Result<void> open();
  // Takes one snapshot now, in `phase`.
  void take(analysis::Phase phase);
  // Snapshots every interval, starting now, until `max_s` have passed (< 0: no limit) or `stop`
  // returns true (polled every 50 ms). `stop` may be empty. `fast`: as often as snapshots are
  // affordable (analysis::load_interval, from the last one's cost), for a load phase.
  // `continuing`: the first snapshot is due an interval after the last one, not now (the next
  // round of a load goes on with the same pacing).
  void run_phase(analysis::Phase phase, double max_s, const std::function<bool()>& stop,
                 bool fast = false, bool continuing = false);
  // Marks the end of a round of the load (after a snapshot taken there); see round_ends().
  void end_round() {
    round_ends_.push_back(last_ ? last_->t_s : 0);
    run_.end_round();
  }
  const std::vector<double>& round_ends() const { return round_ends_; }
  // Wall time of the slowest snapshot so far (fetching, decoding and writing it).
  double snapshot_cost_s() const { return max_cost_s_; }

  // The run model, fed every snapshot so far.
  const analysis::RunBuilder& run() const { return run_; }
  size_t snapshot_count() const { return count_; }
  // Snapshots with a heap profile, and the first error of one without.
  size_t with_heap() const { return with_heap_; }
  const std::string& first_error_without_heap() const { return first_error_without_heap_; }
  // Metrics scrapes that succeeded, and the first error of one that failed.
  size_t metrics_scraped() const { return metrics_scraped_; }
  const std::string& first_metrics_error() const { return first_metrics_error_; }
  // Writes DIR/series.json from DIR/series.jsonl (at the end of the run), with what `leakscope
  // report --reanalyse` needs beside the snapshots: the target's command, the ends of the load's
  // rounds and the session's notes.
  void write_series(const std::vector<std::string>& command = {}) const;
  const SessionOptions& options() const { return options_; }
  std::string started_at() const { return started_at_; }
  // Seconds since open().
  double now_s() const;
  void add_note(std::string note) { notes_.push_back(std::move(note)); }
  // The metrics endpoint scraped (given, or found by the probe); empty when none.
  std::string metrics_url() const { return metrics_ ? metrics_->text() : std::string(); }
  const MetricsScraper* metrics_scraper() const { return metrics_.get(); }
  const std::vector<std::string>& notes() const { return notes_; }
  void clear_progress();

 private:
  void fetch(analysis::Signal signal, const std::string& path, Snapshot& s);
  void scrape_metrics(Snapshot& s);
  void append_series_line(const Snapshot& s);
  nlohmann::json series_header(const char* schema) const;
  void show_progress(const Snapshot& s);
  void feed(Snapshot& s);
  std::optional<double> time_left() const {
    return phase_end_s_ ? std::optional<double>(*phase_end_s_ - now_s()) : std::nullopt;
  }

  SessionOptions options_;
  std::unique_ptr<Scraper> scraper_;
  std::unique_ptr<MetricsScraper> metrics_;
  std::chrono::steady_clock::time_point t0_;
  std::string started_at_;
  analysis::RunBuilder run_;
  std::optional<Snapshot> first_;  // with its profiles, for the progress log's top grower
  std::optional<Snapshot> last_;   // without them
  size_t count_ = 0;
  size_t with_heap_ = 0;
  std::string first_error_without_heap_;
  size_t metrics_scraped_ = 0;
  std::string first_metrics_error_;
  std::vector<std::string> notes_;
  bool progress_shown_ = false;
  double max_cost_s_ = 0;
  std::vector<double> round_ends_;
  std::unique_ptr<ProgressLog> log_;   // with progress_log (detect_progress.h)
  std::optional<double> phase_end_s_;  // when the phase running ends; nullopt: with the load
};

}  // namespace leakscope::cli
