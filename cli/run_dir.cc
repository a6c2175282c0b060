// See run_dir.h. series.jsonl's lines after its header (or series.json's snapshots, where there
// is no series.jsonl, as in the golden run) are fed to the run model in order, one at a time,
// each with the profiles its "files" name, exactly as the live session fed them; what the
// session knew beyond the snapshots (the target's command, the ends of the load's rounds, its
// notes) comes from series.json's header. The metrics' label values (which the live report shows
// for a growing family) are not recorded, so a re-analysed report has none.
#include "cli/run_dir.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/detect_proc.h"
#include "core/profile/pprof_codec.h"

namespace leakscope::cli {
namespace {

using nlohmann::json;

std::optional<int64_t> opt_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<int64_t>();
}

// The snapshot's profiles, decoded; what cannot be read is a note (once) and a gap.
void read_profiles(const std::string& dir, const json& files, analysis::SnapshotIn& in,
                   std::vector<std::string>& notes) {
  for (const auto& [name, path] : files.items()) {
    auto signal = analysis::signal_from_string(name);
    if (!signal || !path.is_string()) continue;
    const std::string file = path.get<std::string>();
    auto bytes = read_text_file(dir + "/" + file);
    if (!bytes) {
      if (notes.empty()) notes.push_back("re-analysis: " + bytes.error().message);
      continue;
    }
    auto profile = decode_profile(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
    if (!profile) {
      if (notes.empty()) notes.push_back("re-analysis: " + profile.error().wrap(file).message);
      continue;
    }
    in.files[name] = path.get<std::string>();
    in.profiles[*signal] = std::move(*profile);
  }
}

void feed(const std::string& dir, const json& s, analysis::RunBuilder& run,
          std::vector<std::string>& notes) {
  analysis::SnapshotIn in;
  in.t_s = s.value("t_s", 0.0);
  in.phase =
      analysis::phase_from_string(s.value("phase", "watch")).value_or(analysis::Phase::kWatch);
  in.rss_bytes = opt_int(s, "rss_bytes");
  in.pss_bytes = opt_int(s, "pss_bytes");
  in.threads = opt_int(s, "threads");
  in.fds = opt_int(s, "fds");
  if (auto m = s.find("metrics"); m != s.end() && m->is_object())
    in.metrics = m->get<std::map<std::string, int64_t>>();
  if (auto f = s.find("files"); f != s.end() && f->is_object()) read_profiles(dir, *f, in, notes);
  run.add(std::move(in));
}

// A run's snapshots one at a time: streamed from series.jsonl where it exists (a day's watch has
// hundreds of megabytes of them), with the header fields of series.json (but its snapshots) when
// the run ended; else from series.json whole.
class SeriesReader {
 public:
  Result<void> open(const std::string& dir) {
    try {
      std::ifstream whole(dir + "/series.json");
      lines_.open(dir + "/series.jsonl");
      if (lines_) {
        std::string line;
        std::getline(lines_, line);
        head_ = json::parse(line);
        auto skip_snapshots = [](int depth, json::parse_event_t event, json& parsed) {
          return !(event == json::parse_event_t::key && depth == 1 && parsed == "snapshots");
        };
        if (whole) head_.update(json::parse(whole, skip_snapshots));
        return {};
      }
      if (!whole)
        return make_error(dir + ": neither series.json nor series.jsonl (not a run directory?)");
      head_ = json::parse(whole);
      snaps_ = head_.value("snapshots", json::array()).get<std::vector<json>>();
      head_.erase("snapshots");
      return {};
    } catch (const json::exception& e) {
      return make_error(dir + "/series.json: " + e.what());
    }
  }
  const json& head() const { return head_; }
  // The next snapshot; false at the end (or at a last line cut short by a kill).
  bool next(json& s) {
    if (!lines_.is_open()) {
      if (at_ >= snaps_.size()) return false;
      s = std::move(snaps_[at_++]);
      return true;
    }
    std::string line;
    while (std::getline(lines_, line)) {
      if (line.empty()) continue;
      s = json::parse(line, nullptr, false);
      return !s.is_discarded();
    }
    return false;
  }

 private:
  json head_;
  std::ifstream lines_;
  std::vector<json> snaps_;
  size_t at_ = 0;
};

}  // namespace

Result<RunDir> read_run_dir(const std::string& dir, const analysis::SiteOptions& sites) {
  SeriesReader series;
  if (auto ok = series.open(dir); !ok) return make_error(ok.error().message);
  const json& head = series.head();
  RunDir r;
  analysis::RunBuilderOptions options;
  options.sites = sites;
  r.target.source = head.value("source", "agent");
  options.go_runtime = r.target.source == "pprof";
  if (auto url = head.find("url"); url != head.end() && url->is_string()) r.target.url = *url;
  r.target.pid = opt_int(head, "pid");
  if (auto c = head.find("command"); c != head.end() && c->is_array())
    r.target.command = c->get<std::vector<std::string>>();
  analysis::RunBuilder run(options);
  std::vector<std::string> notes;
  auto round_ends = head.value("round_ends", std::vector<double>{});
  size_t round = 0;
  for (json s; series.next(s);) {
    if (!s.is_object()) continue;
    feed(dir, s, run, notes);
    while (round < round_ends.size() && round_ends[round] <= s.value("t_s", 0.0)) {
      run.end_round();
      ++round;
    }
  }
  r.model = run.finish();
  r.info.started_at = head.value("started_at", "");
  r.info.interval_s = head.value("interval_s", 1.0);
  r.info.round_ends = std::move(round_ends);
  r.info.notes = head.value("notes", std::vector<std::string>{});
  for (std::string& n : notes) r.info.notes.push_back(std::move(n));
  return r;
}

}  // namespace leakscope::cli
