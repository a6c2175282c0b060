// See detect_session.h. The loop is paced by absolute deadlines (start + k * interval), so slow
// scrapes do not stretch the run, and a snapshot that misses a profile keeps the others: the
// analysis treats the missing figure as a gap (NaN), not as zero.
#include "cli/detect_session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/detect_gc.h"
#include "cli/detect_progress.h"
#include "core/analysis/judge.h"
#include "core/analysis/pacing.h"
#include "core/profile/pprof_codec.h"

namespace leakscope::cli {
namespace {

using analysis::Phase;
using analysis::Signal;

struct Endpoint {
  Signal signal;
  const char* path;
};

std::vector<Endpoint> endpoints(Source s) {
  switch (s) {
    case Source::kAgent:
      return {{Signal::kHeap, "/debug/pprof/heap"},
              {Signal::kMmap, "/debug/pprof/mmap"},
              {Signal::kThreads, "/debug/pprof/threads"},
              {Signal::kFds, "/debug/pprof/fds"}};
    case Source::kPprof:
      // gc=1: Go's heap profile is as of the last published GC cycle; forcing one keeps a snapshot
      // within a cycle of now (when a background cycle ends during its sweep, the publish waits
      // for the next: a snapshot then lags by one interval, which a trend over many absorbs).
      return {{Signal::kHeap, "/debug/pprof/heap?gc=1"},
              {Signal::kGoroutines, "/debug/pprof/goroutine"}};
    case Source::kProc:
      return {};
  }
  return {};
}

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json opt(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// Writes `text` to `path` through a temporary file and a rename.
void write_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) return;
  }
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

const char* to_string(Source s) {
  switch (s) {
    case Source::kAgent:
      return "agent";
    case Source::kPprof:
      return "pprof";
    case Source::kProc:
      return "proc";
  }
  return "?";
}

Session::Session(SessionOptions options) : options_(std::move(options)), run_(options_.run) {
  if (options_.progress_log && !options_.progress) log_ = std::make_unique<ProgressLog>();
}
Session::~Session() { clear_progress(); }

Result<void> Session::open() {
  std::error_code ec;
  std::filesystem::create_directories(options_.out_dir + "/snapshots", ec);
  if (ec) return make_error(options_.out_dir + "/snapshots: " + ec.message());
  // A directory used before: series.jsonl is appended to, so it starts afresh.
  std::filesystem::remove(options_.out_dir + "/series.jsonl", ec);
  if (options_.url) scraper_ = std::make_unique<Scraper>(*options_.url);
  if (options_.metrics_url) metrics_ = std::make_unique<MetricsScraper>(*options_.metrics_url);
  t0_ = std::chrono::steady_clock::now();
  started_at_ = iso_now();
  return {};
}

double Session::now_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

void Session::fetch(Signal signal, const std::string& path, Snapshot& s) {
  auto body = scraper_->get(path);
  if (!body) {
    s.errors.push_back(body.error().message);
    return;
  }
  char name[64];
  std::snprintf(name, sizeof name, "snapshots/%04zu.%s.pb.gz", count_, analysis::to_string(signal));
  write_atomically(options_.out_dir + "/" + name, *body);
  auto profile = decode_profile(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body->data()), body->size()));
  if (!profile) {
    s.errors.push_back(profile.error().wrap(path).message);
    return;
  }
  s.files[analysis::to_string(signal)] = name;
  s.profiles[signal] = std::move(*profile);
}

void Session::scrape_metrics(Snapshot& s) {
  if (!metrics_ && options_.probe_metrics && options_.url && count_ == 0) {
    auto probe = std::make_unique<MetricsScraper>(metrics_beside(*options_.url));
    if (auto first = probe->scrape()) {
      add_note("metrics: found " + probe->text() +
               " beside the pprof endpoint and scraped it at every snapshot (--metrics URL "
               "chooses another)");
      s.metrics = std::move(*first);
      metrics_ = std::move(probe);
    }
    return;
  }
  if (!metrics_) return;
  auto series = metrics_->scrape();
  if (series) {
    s.metrics = std::move(*series);
  } else {
    s.errors.push_back(series.error().message);
    if (first_metrics_error_.empty()) first_metrics_error_ = series.error().message;
  }
}

void Session::take(Phase phase) {
  Snapshot s;
  s.t_s = now_s();
  s.phase = phase;
  if (scraper_)
    for (const Endpoint& e : endpoints(options_.source))
      fetch(e.signal, gc_path(e.path, options_.gc_every, count_), s);
  scrape_metrics(s);
  if (options_.pid > 0) {
    auto figures = read_proc_figures(options_.pid);
    if (figures)
      s.proc = *figures;
    else
      s.errors.push_back(figures.error().message);
  }
  if (s.metrics) ++metrics_scraped_;
  if (s.profiles.count(Signal::kHeap))
    ++with_heap_;
  else if (first_error_without_heap_.empty() && !s.errors.empty())
    first_error_without_heap_ = s.errors.front();
  if (!first_) first_ = s;
  ++count_;
  if (options_.progress) show_progress(s);
  if (log_) log_->maybe_print(*first_, s, time_left());
  feed(s);
  s.cost_s = now_s() - s.t_s;
  max_cost_s_ = std::max(max_cost_s_, s.cost_s);
  append_series_line(s);
  last_ = std::move(s);
}

// Hands the snapshot's profiles to the run model (which symbolizes, reduces and drops them).
void Session::feed(Snapshot& s) {
  analysis::SnapshotIn in;
  in.t_s = s.t_s;
  in.phase = s.phase;
  in.profiles = std::move(s.profiles);
  s.profiles.clear();
  in.rss_bytes = s.proc.rss_bytes;
  in.pss_bytes = s.proc.pss_bytes;
  in.threads = s.proc.threads;
  in.fds = s.proc.fds;
  if (s.metrics) in.metrics = std::map<std::string, int64_t>(s.metrics->begin(), s.metrics->end());
  in.files = s.files;
  run_.add(std::move(in));
}

void Session::run_phase(Phase phase, double max_s, const std::function<bool()>& stop, bool fast,
                        bool continuing) {
  // Fast: as often as the last snapshot's cost allows (a Go heap with ?gc=1 can cost a quarter
  // of a second under load, an agent's a hundredth), recomputed after every snapshot.
  auto every = [&] {
    if (!fast) return options_.interval_s;
    return analysis::load_interval(options_.interval_s, last_ ? last_->cost_s : 0);
  };
  const double start = now_s();
  phase_end_s_ = max_s >= 0 ? std::optional<double>(start + max_s) : std::nullopt;
  double due = start;
  if (continuing && last_) due = std::max(start, last_->t_s + every());
  for (;;) {
    while (now_s() < due) {
      if (stop && stop()) return;
      double left = due - now_s();
      std::this_thread::sleep_for(
          std::chrono::duration<double>(std::min(0.05, std::max(left, 0.0))));
    }
    if (max_s >= 0 && now_s() - start > max_s + 1e-3) return;
    take(phase);
    if (stop && stop()) return;
    due += every();
  }
}

// What series.jsonl's header line and series.json share: the run's source and start.
nlohmann::json Session::series_header(const char* schema) const {
  return {
      {"schema", schema},
      {"started_at", started_at_},
      {"interval_s", options_.interval_s},
      {"source", to_string(options_.source)},
      {"url", options_.url ? nlohmann::json(options_.url->text()) : nlohmann::json(nullptr)},
      {"pid", options_.pid > 0 ? nlohmann::json(options_.pid) : nlohmann::json(nullptr)},
      {"metrics_url", metrics_ ? nlohmann::json(metrics_->text()) : nlohmann::json(nullptr)},
  };
}

// One line of DIR/series.jsonl; the first snapshot's is preceded by the header line.
void Session::append_series_line(const Snapshot& s) {
  std::ofstream out(options_.out_dir + "/series.jsonl", std::ios::binary | std::ios::app);
  if (count_ == 1) {
    out << series_header("leakscope.series-log/v1").dump() << "\n";
  }
  nlohmann::json line = {
      {"t_s", s.t_s},
      {"phase", analysis::to_string(s.phase)},
      {"rss_bytes", opt(s.proc.rss_bytes)},
      {"pss_bytes", opt(s.proc.pss_bytes)},
      {"threads", opt(s.proc.threads)},
      {"fds", opt(s.proc.fds)},
      {"files", s.files},
      {"metrics", s.metrics ? nlohmann::json(*s.metrics) : nlohmann::json(nullptr)},
      {"errors", s.errors},
      {"cost_s", s.cost_s},
  };
  out << line.dump() << "\n";
}

void Session::write_series(const std::vector<std::string>& command) const {
  std::ifstream in(options_.out_dir + "/series.jsonl", std::ios::binary);
  std::string head_line, line;
  nlohmann::json doc = series_header("leakscope.series/v1");
  doc["snapshots"] = "@SNAPSHOTS@";
  doc["command"] = command;
  doc["round_ends"] = round_ends_;
  doc["notes"] = notes_;
  // The snapshots' lines are copied in as they are (each is one JSON object), streamed: neither
  // file is ever held whole in memory (a day's watch writes hundreds of megabytes).
  std::string text = doc.dump(1);
  size_t at = text.find("\"@SNAPSHOTS@\"");
  std::string path = options_.out_dir + "/series.json", tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(at));
    out << "[";
    std::getline(in, head_line);
    bool first = true;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      out << (first ? "\n  " : ",\n  ") << line;
      first = false;
    }
    out << (first ? "]" : "\n ]") << text.substr(at + 13) << "\n";
    if (!out) return;
  }
  std::rename(tmp.c_str(), path.c_str());
}

void Session::show_progress(const Snapshot& s) {
  std::string line = "[" + std::string(analysis::to_string(s.phase)) + " " +
                     std::to_string(static_cast<int>(s.t_s)) + " s] ";
  if (s.proc.rss_bytes) line += "rss " + analysis::human(*s.proc.rss_bytes, "bytes") + "  ";
  auto heap = s.profiles.find(Signal::kHeap);
  if (heap != s.profiles.end()) {
    double total = 0;
    const Profile& p = heap->second;
    size_t idx = p.sample_types.empty() ? 0 : p.sample_types.size() - 1;
    for (const Sample& smp : p.samples)
      if (idx < smp.values.size()) total += static_cast<double>(smp.values[idx]);
    line += "heap " + analysis::human(total, "bytes") + "  ";
  }
  if (s.proc.threads) line += "threads " + std::to_string(*s.proc.threads) + "  ";
  if (s.proc.fds) line += "fds " + std::to_string(*s.proc.fds) + "  ";
  line += std::to_string(count_) + " snapshots";
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  progress_shown_ = true;
}

void Session::clear_progress() {
  if (!progress_shown_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  progress_shown_ = false;
}

}  // namespace leakscope::cli
