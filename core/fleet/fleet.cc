// judge_fleet: from every instance's series to the fleet report (fleet_judge.cc judges one
// series; this file puts instances, peers, limits and cardinality together).
#include "core/fleet/fleet.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/analysis/judge.h"
#include "core/analysis/trend.h"

namespace leakscope::fleet {
namespace {

using analysis::Signal;
using analysis::Verdict;

bool is_bytes(Signal k) { return k == Signal::kHeap || k == Signal::kRss || k == Signal::kMmap; }

std::string duration(double s) {
  char buf[48];
  if (s < 60) return "under a minute";
  if (s >= 5400)
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  else
    std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
  return buf;
}

// The byte series the limit is compared with: working set or RSS first (what the OOM killer
// counts), then a heap figure.
const SignalVerdict* memory_signal(const InstanceVerdict& v) {
  const SignalVerdict* best = nullptr;
  for (const SignalVerdict& s : v.signals) {
    if (!is_bytes(s.kind)) continue;
    if (!best || (s.kind == Signal::kRss && best->kind != Signal::kRss)) best = &s;
    if (best == &s && s.verdict == Verdict::kLeak) break;
  }
  // A leaking byte series wins over a quiet one of the preferred kind.
  for (const SignalVerdict& s : v.signals)
    if (is_bytes(s.kind) && s.verdict == Verdict::kLeak && best->verdict != Verdict::kLeak)
      best = &s;
  return best;
}

InstanceVerdict judge_instance(const InstanceData& d, const Options& o) {
  InstanceVerdict v;
  v.instance = d.instance;
  v.job = d.job;
  v.labels = d.labels;
  auto restarts = find_restarts(d);
  v.restarts = restarts;
  if (!restarts.empty()) {
    std::vector<double> up;
    for (const Restart& r : restarts) up.push_back(r.uptime_s);
    v.restart_interval_s = analysis::median(up);
  }
  std::set<Signal> judged;
  for (const Family& f : memory_families()) {
    auto it = d.families.find(f.name);
    if (it == d.families.end() || it->second.x.empty()) continue;
    v.found.push_back(f.name);
    if (!judged.insert(f.kind).second) continue;  // one family per kind: the preferred one
    v.signals.push_back(judge_series(f.name, f.kind, it->second, restarts, o));
    if (v.chart.t.empty() && is_bytes(f.kind)) v.chart = thin(it->second, 120);
  }
  v.limit_bytes = o.limit_bytes ? o.limit_bytes : d.limit_bytes;
  return v;
}

void decide(InstanceVerdict& v) {
  std::vector<std::string> leaking, parts;
  bool inconclusive = v.signals.empty();
  double conf = 0;
  for (const SignalVerdict& s : v.signals) {
    if (s.verdict == Verdict::kLeak) {
      const char* k = analysis::to_string(s.kind);
      if (std::find(v.kinds.begin(), v.kinds.end(), k) == v.kinds.end()) v.kinds.push_back(k);
      parts.push_back(s.evidence);
      conf = std::max(conf, s.confidence);
    }
    if (s.verdict == Verdict::kInconclusive) inconclusive = true;
  }
  if (!v.kinds.empty()) {
    v.verdict = Verdict::kLeak;
  } else if (inconclusive) {
    v.verdict = Verdict::kInconclusive;
    for (const SignalVerdict& s : v.signals)
      if (s.verdict == Verdict::kInconclusive) parts.push_back(s.evidence);
    if (v.signals.empty()) parts.push_back("no memory series found for this instance");
  } else {
    v.verdict = Verdict::kNoLeak;
    if (!v.restarts.empty())
      parts.push_back(std::to_string(v.restarts.size()) +
                      " restart(s), and no series climbs between them");
    else
      parts.push_back("no series grows beyond its noise floor with a consistent trend");
  }
  std::string e;
  for (const std::string& p : parts) e += (e.empty() ? "" : "; ") + p;
  v.evidence = e;
  v.score = (v.verdict == Verdict::kLeak ? 10 : 0) + conf;
}

void forecast(InstanceVerdict& v) {
  if (v.verdict != Verdict::kLeak || !v.limit_bytes || *v.limit_bytes <= 0) return;
  const SignalVerdict* m = memory_signal(v);
  if (!m || m->verdict != Verdict::kLeak || m->growth_per_s <= 0) return;
  double left = *v.limit_bytes - m->end_level;
  v.time_to_limit_s = std::max(0.0, left / m->growth_per_s);
  v.evidence += "; the limit (" + analysis::human(*v.limit_bytes, "bytes") + ") reached in " +
                duration(*v.time_to_limit_s);
  v.score += 1 / (1 + *v.time_to_limit_s / 3600);
}

// RESIN's comparison: each instance's memory slope against its job's.
void compare_peers(std::vector<InstanceVerdict>& all, double factor) {
  std::map<std::string, std::vector<InstanceVerdict*>> jobs;
  for (InstanceVerdict& v : all) jobs[v.job].push_back(&v);
  for (auto& [job, members] : jobs) {
    std::vector<double> slopes;
    for (InstanceVerdict* v : members)
      if (const SignalVerdict* m = memory_signal(*v)) slopes.push_back(m->growth_per_s);
    if (slopes.size() < 3) continue;
    double med = analysis::median(slopes);
    std::vector<double> dev;
    for (double s : slopes) dev.push_back(std::fabs(s - med));
    double mad = 1.4826 * analysis::median(dev);
    size_t leaking = 0;
    for (InstanceVerdict* v : members) leaking += v->verdict == Verdict::kLeak;
    for (InstanceVerdict* v : members) {
      const SignalVerdict* m = memory_signal(*v);
      if (!m || v->verdict != Verdict::kLeak) continue;
      double z = mad > 0 ? (m->growth_per_s - med) / mad : 0;
      v->peer_ratio = z;
      if (z > factor)
        v->evidence += "; its memory grows faster than its " + std::to_string(slopes.size() - 1) +
                       " peers in job " + job + " (" + std::to_string(int64_t(z)) +
                       " robust deviations above their median)";
      else if (2 * leaking > members.size())
        v->evidence += "; most of job " + job +
                       " grows alike (a leak in every replica, or growth with traffic)";
    }
  }
}

// Cardinality: each family's series count on each instance, judged like any count.
void judge_counts(FleetReport& r, const std::vector<FamilyCount>& counts,
                  const std::map<std::string, std::vector<Restart>>& restarts, const Options& o) {
  std::map<std::string, MetricVerdict> fam;
  std::map<std::string, InstanceVerdict*> by_instance;
  for (InstanceVerdict& v : r.instances) by_instance[v.instance] = &v;
  for (const FamilyCount& c : counts) {
    if (c.count.x.empty()) continue;
    MetricVerdict& m = fam[c.family];
    m.family = c.family;
    m.series_start += int64_t(c.count.x.front());
    m.series_end += int64_t(c.count.x.back());
    auto rs = restarts.find(c.instance);
    static const std::vector<Restart> kNone;
    SignalVerdict s = judge_series(c.family, Signal::kMetrics, c.count,
                                   rs == restarts.end() ? kNone : rs->second, o);
    if (s.verdict != Verdict::kLeak) continue;
    m.verdict = Verdict::kLeak;
    m.instances.push_back(c.instance);
    auto it = by_instance.find(c.instance);
    if (it == by_instance.end()) continue;
    InstanceVerdict& v = *it->second;
    if (std::find(v.kinds.begin(), v.kinds.end(), "metrics") == v.kinds.end())
      v.kinds.push_back("metrics");
    v.sites.push_back({"metrics", c.family, "", 0});  // a family's site is its name
    std::string e = "metric family " + c.family +
                    " gains series: " + std::to_string(int64_t(s.start_level)) + " -> " +
                    std::to_string(int64_t(s.end_level)) +
                    " (Mann-Kendall p=" + analysis::format_p(s.p) + ")";
    v.evidence = v.verdict == Verdict::kLeak ? v.evidence + "; " + e : e;
    v.verdict = Verdict::kLeak;
    v.score = std::max(v.score, 10 + s.confidence);
  }
  for (auto& [name, m] : fam) {
    m.evidence = std::to_string(m.series_start) + " -> " + std::to_string(m.series_end) +
                 " series across the fleet";
    if (m.verdict == Verdict::kLeak)
      m.evidence += "; growing on " + std::to_string(m.instances.size()) + " instance(s)";
    r.metrics.push_back(std::move(m));
  }
  std::stable_sort(r.metrics.begin(), r.metrics.end(), [](const auto& a, const auto& b) {
    if ((a.verdict == Verdict::kLeak) != (b.verdict == Verdict::kLeak))
      return a.verdict == Verdict::kLeak;
    return a.series_end - a.series_start > b.series_end - b.series_start;
  });
}

}  // namespace

const std::vector<Family>& memory_families() {
  static const std::vector<Family> kFamilies = {
      {"container_memory_working_set_bytes", Signal::kRss, "max"},
      {"process_resident_memory_bytes", Signal::kRss, "sum"},
      {"go_memstats_heap_inuse_bytes", Signal::kHeap, "sum"},
      {"go_memstats_heap_alloc_bytes", Signal::kHeap, "sum"},
      {"leakscope_heap_inuse_bytes", Signal::kHeap, "sum"},
      {"go_goroutines", Signal::kGoroutines, "sum"},
      {"leakscope_tracked_threads", Signal::kThreads, "sum"},
      {"go_threads", Signal::kThreads, "sum"},
      {"process_open_fds", Signal::kFds, "sum"},
      {"leakscope_tracked_fds", Signal::kFds, "sum"},
  };
  return kFamilies;
}

FleetReport judge_fleet(const std::vector<InstanceData>& instances,
                        const std::vector<FamilyCount>& counts, const Options& o) {
  FleetReport r;
  r.window_s = o.window_s;
  r.end_s = o.end_s;
  std::set<std::string> found;
  std::map<std::string, std::vector<Restart>> restarts;
  for (const InstanceData& d : instances) {
    InstanceVerdict v = judge_instance(d, o);
    found.insert(v.found.begin(), v.found.end());
    restarts[v.instance] = v.restarts;
    decide(v);
    forecast(v);
    r.instances.push_back(std::move(v));
  }
  compare_peers(r.instances, o.peer_factor);
  judge_counts(r, counts, restarts, o);
  r.found.assign(found.begin(), found.end());
  std::stable_sort(r.instances.begin(), r.instances.end(),
                   [](const auto& a, const auto& b) { return a.score > b.score; });
  return r;
}

bool any_leak(const FleetReport& r) {
  for (const InstanceVerdict& v : r.instances)
    if (v.verdict == Verdict::kLeak) return true;
  return false;
}

}  // namespace leakscope::fleet
