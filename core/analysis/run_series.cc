// See run_series.h.
#include "core/analysis/run_series.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "core/profile/profile_ops.h"

namespace leakscope::analysis {
namespace {

// The agent's sample budget (agent/heap/sampler.h) raises the rate of allocation-heavy threads
// and says by how much at most in a comment: "... sampled at up to N x the rate ...". The
// profile's period stays the base rate; each sample is weighted at its own, so values are
// unbiased but coarser. 1 when the comment is absent.
double budget_raise(const Profile& p) {
  static constexpr std::string_view kMark = "leakscope: sample budget: ";
  static constexpr std::string_view kUpTo = "at up to ";
  for (const std::string& c : p.comments) {
    if (c.compare(0, kMark.size(), kMark) != 0) continue;
    size_t at = c.find(kUpTo);
    if (at == std::string::npos) continue;
    double factor = std::strtod(c.c_str() + at + kUpTo.size(), nullptr);
    if (factor > 1 && factor < 1e9) return factor;
  }
  return 1;
}

// The value index a signal is read from: inuse_space for heap and mmap, the last (default)
// sample type otherwise.
std::optional<size_t> value_index(const Profile& p, Signal s) {
  if (s == Signal::kHeap || s == Signal::kMmap) {
    if (auto i = select_sample_type(p, "inuse_space")) return *i;
  }
  if (auto i = select_sample_type(p, "")) return *i;
  return std::nullopt;
}

// Root-first function names of every sample of a heap profile, for the flame graphs.
std::vector<StackValue> flame_stacks(const Profile& p) {
  std::vector<StackValue> out;
  auto idx = value_index(p, Signal::kHeap);
  if (!idx) return out;
  ProfileIndex index(p);
  for (const Sample& s : p.samples) {
    if (*idx >= s.values.size() || s.values[*idx] <= 0) continue;
    StackValue e;
    for (const Frame& f : frames_of(index, s)) e.stack.insert(e.stack.begin(), f.function);
    e.value = s.values[*idx];
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<double> as_double(const std::optional<int64_t>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}

template <typename T>
void keep_only(std::vector<T>& v, const std::vector<bool>& keep) {
  size_t out = 0;
  for (size_t i = 0; i < v.size() && i < keep.size(); ++i)
    if (keep[i]) v[out++] = std::move(v[i]);
  v.resize(out);
}

// Where the symbolizer looks for what a stripped binary lacks (SymbolizeOptions, libdwfl's
// standard search), so the reader knows what to install.
constexpr const char* kDebugInfoHint =
    ": debug info is looked for in each file itself, beside it (.gnu_debuglink, and in .debug/), "
    "and under /usr/lib/debug/.build-id/xx/yyyy.debug by build ID; install the -dbgsym packages, "
    "or build with -g, and run again";

}  // namespace

const char* series_name(Signal signal) {
  switch (signal) {
    case Signal::kHeap:
      return "heap_inuse_bytes";
    case Signal::kMmap:
      return "mmap_bytes";
    case Signal::kThreads:
      return "threads";
    case Signal::kFds:
      return "fds";
    case Signal::kGoroutines:
      return "goroutines";
    case Signal::kRss:
      return "rss_bytes";
    case Signal::kMetrics:
      return "metrics";
  }
  return "?";
}

RunBuilder::RunBuilder(RunBuilderOptions options)
    : options_(std::move(options)),
      symbolizer_(std::make_unique<Symbolizer>(options_.symbolize)),
      sites_(0, options_.sites) {}
RunBuilder::~RunBuilder() = default;

void RunBuilder::put(Signal total, size_t i, std::optional<double> v) {
  if (!v) return;
  auto& s = totals_[total];
  s.resize(points_.size(), NAN);
  s[i] = *v;
}

void RunBuilder::reduce(size_t i, Signal signal, Profile& p) {
  SymbolizeStats stats;
  auto ok = symbolizer_->symbolize(p, &stats);
  if ((!ok || stats.resolved < stats.locations) && notes_.empty())
    notes_.push_back(ok ? std::to_string(stats.locations - stats.resolved) + " of " +
                              std::to_string(stats.locations) +
                              " locations could not be symbolized" + kDebugInfoHint
                        : "symbolizing: " + ok.error().message);
  auto idx = value_index(p, signal);
  if (!idx) return;
  if (signal == Signal::kHeap && p.period > 0) {
    double factor = budget_raise(p);
    if (factor > 1) rate_raised_by_budget_ = true;
    sampling_rate_ = std::max(sampling_rate_, static_cast<double>(p.period) * factor);
  }
  sites_.mark_present(i, signal);
  std::optional<size_t> objects;
  if (signal == Signal::kHeap)
    if (auto o = select_sample_type(p, "inuse_objects")) objects = *o;
  ProfileIndex index(p);
  double total = 0;
  for (const Sample& smp : p.samples) {
    if (*idx >= smp.values.size() || smp.values[*idx] == 0) continue;
    auto value = static_cast<double>(smp.values[*idx]);
    total += value;
    sites_.add(
        i, signal, frames_of(index, smp), value, smp.labels,
        objects && *objects < smp.values.size() ? static_cast<double>(smp.values[*objects]) : NAN);
  }
  // Threads and fds: /proc's count where it was read (exact, and the agent's own included).
  bool from_proc = (signal == Signal::kThreads || signal == Signal::kFds) &&
                   totals_.count(signal) && totals_[signal].size() > i &&
                   !std::isnan(totals_[signal][i]);
  if (!from_proc) put(signal, i, total);
}

void RunBuilder::add_metrics(size_t i,
                             const std::optional<std::map<std::string, int64_t>>& metrics) {
  points_[i].scraped = metrics.has_value();
  if (metrics)
    for (const auto& [name, n] : *metrics)
      if (!metric_families_.count(name)) {
        // A family first seen now: 0 where earlier scrapes succeeded without it, NaN where none.
        auto& v = metric_families_[name];
        for (size_t k = 0; k < i; ++k) v.push_back(points_[k].scraped ? 0.0 : NAN);
      }
  for (auto& [name, v] : metric_families_) {
    double x = NAN;
    if (metrics) {
      auto it = metrics->find(name);
      x = it == metrics->end() ? 0.0 : static_cast<double>(it->second);
    }
    v.push_back(x);
  }
}

void RunBuilder::add(SnapshotIn s) {
  const size_t i = points_.size();
  bool new_phase = points_.empty() || points_.back().ref.phase != s.phase;
  if (new_phase && !points_.empty()) points_.back().keep = true;  // the last of its phase
  Point point;
  point.ref = {s.t_s, s.phase, std::move(s.files)};
  point.seq = snapshots_++;
  point.keep = new_phase;
  point.pss = as_double(s.pss_bytes);
  points_.push_back(std::move(point));
  put(Signal::kRss, i, as_double(s.rss_bytes));
  put(Signal::kThreads, i, as_double(s.threads));
  put(Signal::kFds, i, as_double(s.fds));
  for (auto& [signal, profile] : s.profiles) reduce(i, signal, profile);
  add_metrics(i, s.metrics);
  auto heap = s.profiles.find(Signal::kHeap);
  last_has_heap_ = heap != s.profiles.end();
  if (s.phase == Phase::kBaseline || !before_set_) {
    before_set_ = true;
    before_heap_.reset();
    if (last_has_heap_) before_heap_ = heap->second;
  }
  if (last_has_heap_) last_heap_ = std::move(heap->second);
  if (points_.size() >= options_.max_points) thin();
}

void RunBuilder::end_round() {
  if (!points_.empty()) points_.back().keep = true;
}

const std::vector<double>* RunBuilder::heap_totals() const {
  auto it = totals_.find(Signal::kHeap);
  return it == totals_.end() ? nullptr : &it->second;
}

void RunBuilder::thin() {
  const size_t n = points_.size();
  const size_t recent = std::min(options_.recent_points, n);
  const size_t room = (options_.max_points - recent) / 2;
  std::vector<bool> keep(n, true);
  for (;;) {
    size_t kept = 0;
    for (size_t i = 0; i + recent < n; ++i) {
      keep[i] = points_[i].keep || points_[i].seq % stride_ == 0;
      kept += keep[i];
    }
    if (kept <= room) break;
    stride_ *= 2;
  }
  keep_only(points_, keep);
  for (auto& [signal, v] : totals_) {
    v.resize(n, NAN);
    keep_only(v, keep);
  }
  for (auto& [name, v] : metric_families_) keep_only(v, keep);
  sites_.compact(keep);
}

RunModel RunBuilder::finish() const {
  RunModel m;
  const size_t n = points_.size();
  m.snapshots = snapshots_;
  m.run.go_runtime = options_.go_runtime;
  m.run.sampling_rate = sampling_rate_;
  m.run.rate_raised_by_budget = rate_raised_by_budget_;
  for (const Point& p : points_) {
    m.run.t_s.push_back(p.ref.t_s);
    m.run.phase.push_back(p.ref.phase);
    m.points.push_back(p.ref);
  }
  for (const auto& [signal, values] : totals_) {
    std::vector<double> v = values;
    v.resize(n, NAN);
    m.series[series_name(signal)] = v;
    m.run.totals[signal] = std::move(v);
  }
  if (std::any_of(points_.begin(), points_.end(), [](const Point& p) { return p.pss; })) {
    auto& pss = m.series["pss_bytes"];
    for (const Point& p : points_) pss.push_back(p.pss.value_or(NAN));
  }
  m.run.metric_families = metric_families_;
  std::vector<std::string> wrappers;
  m.run.sites = sites_.finish(&wrappers);
  for (SiteSeries& s : m.run.sites) s.values.resize(n, NAN);
  m.notes = notes_;
  if (!wrappers.empty()) {
    std::string list;
    for (size_t i = 0; i < wrappers.size() && i < 8; ++i) list += (i ? ", " : "") + wrappers[i];
    if (wrappers.size() > 8) list += " and " + std::to_string(wrappers.size() - 8) + " more";
    m.notes.push_back("allocator wrappers found (sites are their callers): " + list);
  }
  m.has_flame = last_has_heap_ && last_heap_;
  if (m.has_flame) {
    if (before_heap_) m.flame_before = flame_stacks(*before_heap_);
    m.flame_final = flame_stacks(*last_heap_);
  }
  return m;
}

}  // namespace leakscope::analysis
