// analyze(): every site series through judge(), then the whole-process figures. See analysis.h.
//
// Totals are judged only where they say something the sites do not: a signal read without
// stacks (/proc threads and fds, RSS on a proc-only watch) becomes a finding with an empty site.
// RSS beside a heap profile is never a "leak" on its own: either the live heap explains it (then
// the heap sites carry the finding), or the heap came back and RSS did not -- retention, the
// allocator keeping freed pages -- or neither, which is reported as inconclusive.
#include "core/analysis/analysis.h"

#include <algorithm>
#include <cmath>

#include "core/analysis/merge_lines.h"
#include "core/analysis/patterns.h"
#include "core/analysis/sites.h"
#include "core/analysis/trend.h"

namespace leakscope::analysis {
namespace {

int rank(Verdict v) { return static_cast<int>(v); }

double max_finite(const std::vector<double>& v) {
  double m = 0;
  for (double d : v)
    if (!std::isnan(d)) m = std::max(m, d);
  return m;
}

double first_finite(const std::vector<double>& v) {
  for (double d : v)
    if (!std::isnan(d)) return d;
  return 0;
}

double last_finite(const std::vector<double>& v) {
  for (auto it = v.rbegin(); it != v.rend(); ++it)
    if (!std::isnan(*it)) return *it;
  return NAN;
}

std::string evidence_of(const Judgement& j, Signal s, double floor) {
  const char* unit = unit_of(s);
  std::string e = "grew " + human(j.growth, unit) + " over the " +
                  std::to_string(static_cast<long>(std::lround(j.load_s))) +
                  (j.steady  ? " s run"
                   : j.watch ? " s watch"
                             : " s load") +
                  " (Mann-Kendall p=" + format_p(j.p_load) + ", Theil-Sen " +
                  human(j.growth_per_s, unit) + "/s; second half p=" + format_p(j.p_late) +
                  ", noise floor " + human(floor, unit) + ")";
  if (!std::isnan(j.returned)) {
    double kept = std::clamp(1 - j.returned, 0.0, 9.99);
    e += "; cooldown kept " + std::to_string(static_cast<int>(std::lround(kept * 100))) + "%";
  }
  return e + ": " + j.reason;
}

Finding finding_of(const Judgement& j, Signal s, double floor, const RunSeries& run,
                   const std::vector<double>& values) {
  Finding f;
  f.kind = s;
  f.verdict = j.verdict;
  f.growth = j.growth;
  f.growth_per_s = j.growth_per_s;
  f.confidence = std::clamp(j.confidence, 0.0, 1.0);
  f.evidence = evidence_of(j, s, floor);
  f.t_s = run.t_s;
  f.values = values;
  return f;
}

bool is_exact(Signal s) { return s != Signal::kHeap && s != Signal::kMmap && s != Signal::kRss; }

// Rounds replay the same requests. A count keyed by the input (a series per raw path, a
// descriptor per distinct file) grows throughout the first round and then stops, exactly as a
// cache that fills would; what sets it apart is that it was still rising when the first round
// ended: the load's own inputs never found its bound. So an exact count is judged a second time
// on the first round alone (the later load snapshots left out), where the exact rule applies.
Judgement judge_values(const RunSeries& run, Signal s, const std::vector<double>& v, double floor,
                       const JudgeOptions& o) {
  Judgement j = judge(SeriesView{run.t_s, v, run.phase, is_exact(s)}, floor, o);
  if (j.verdict == Verdict::kLeak || !is_exact(s) || !run.first_round_end_s) return j;
  std::vector<double> first(v);
  for (size_t i = 0; i < first.size() && i < run.t_s.size(); ++i)
    if (run.phase[i] == Phase::kLoad && run.t_s[i] > *run.first_round_end_s + 1e-6) first[i] = NAN;
  Judgement r = judge(SeriesView{run.t_s, first, run.phase, true}, floor, o);
  if (r.verdict != Verdict::kLeak) return j;
  r.reason = (r.rising_at_end ? std::string("rose throughout the first round of the load")
                              : "rose in the first round of the load, flat for its last " +
                                    std::to_string(r.flat_tail) + " snapshots,") +
             " and kept it; the rounds after it replayed the same requests and added none (one "
             "per distinct input: unbounded in real traffic)";
  return r;
}

// The heap profile sampled coarser than asked: Go's runtime (1.19) sets MemProfileRate itself
// at init and so ignores GODEBUG=memprofilerate, and serves Period 524288 whatever --rate said.
// A site must then grow about four samples (four periods) to be seen at all; one that grew that
// much and kept it, but not past the floor at its level, is not "no leak": nobody can tell.
bool coarse_rate(const RunSeries& run) {
  return run.requested_rate > 0 && run.sampling_rate > 2 * run.requested_rate;
}

std::string lower_rate_advice(const RunSeries& run) {
  if (run.rate_raised_by_budget)
    return "the agent raised its sampling rate for allocation-heavy threads to stay within "
           "LEAKSCOPE_MAX_SAMPLES_PER_SEC: raise that budget (0 turns it off), or run a longer "
           "load";
  return "set runtime.MemProfileRate = " + std::to_string(static_cast<long>(run.requested_rate)) +
         " as the first line of main() (Go ignores GODEBUG=memprofilerate), or run a longer load";
}

void mark_unseen_growth(const RunSeries& run, const Judgement& j, double floor, Finding& f) {
  if (!coarse_rate(run) || f.verdict != Verdict::kNoLeak) return;
  bool kept = std::isnan(j.returned) || j.returned < 0.5;
  if (j.growth < 4 * run.sampling_rate || !kept) return;
  f.verdict = Verdict::kInconclusive;
  f.confidence = 0;
  f.evidence += "; the profile samples every " + human(run.sampling_rate, "bytes") +
                ", too coarse to tell this growth from noise (floor " + human(floor, "bytes") +
                "): " + lower_rate_advice(run);
}

std::string retention_advice(bool go) { return allocator_retention_fix(go); }

// The kinds of leak already found whose memory the heap profile does not hold (goroutine and
// thread stacks, socket buffers), e.g. "goroutines, fds"; empty when none.
std::string held_outside_heap(const std::vector<Finding>& findings) {
  std::string kinds;
  for (Signal s : {Signal::kGoroutines, Signal::kThreads, Signal::kFds})
    if (std::any_of(findings.begin(), findings.end(),
                    [&](const Finding& f) { return f.kind == s && f.verdict == Verdict::kLeak; }))
      kinds += (kinds.empty() ? "" : ", ") + std::string(to_string(s));
  return kinds;
}

// RSS against the live heap: retention, an unexplained rise, or nothing to say. RSS that leaked
// goroutines or threads explain is not retention: GOMEMLIMIT or malloc_trim would not bring it
// back, and the advice would send the reader after the wrong cause.
void judge_rss(const RunSeries& run, const AnalysisOptions& o, Analysis& out) {
  auto rss = run.totals.find(Signal::kRss);
  if (rss == run.totals.end()) return;
  const auto& v = rss->second;
  double floor = noise_floor(Signal::kRss, max_finite(v), first_finite(v), run.sampling_rate);
  Judgement r = judge_values(run, Signal::kRss, v, floor, o.judge);
  auto heap = run.totals.find(Signal::kHeap);
  if (heap == run.totals.end()) {
    if (r.verdict != Verdict::kNoLeak || r.worth_showing)
      out.findings.push_back(finding_of(r, Signal::kRss, floor, run, v));
    return;
  }
  double heap_floor = noise_floor(Signal::kHeap, max_finite(heap->second), 0, run.sampling_rate);
  Judgement h = judge_values(run, Signal::kHeap, heap->second, heap_floor, o.judge);
  if (std::isnan(r.returned) || r.growth < floor) return;
  double rss_kept = r.growth * (1 - r.returned);
  double heap_kept = std::isnan(h.returned) ? h.growth : h.growth * (1 - h.returned);
  if (rss_kept >= floor && heap_kept < 0.5 * rss_kept) {
    if (std::string held = held_outside_heap(out.findings); !held.empty()) {
      out.notes.push_back(
          "RSS kept " + human(rss_kept, "bytes") + " in cooldown beyond the live heap (" +
          human(std::max(0.0, heap_kept), "bytes") + "); the " + held +
          " leaked above hold memory outside the heap profile (stacks, buffers), so it "
          "is not called allocator retention");
      return;
    }
    Finding f = finding_of(r, Signal::kRss, floor, run, v);
    f.verdict = Verdict::kRetention;
    f.confidence = std::clamp(1 - std::max(0.0, r.returned), 0.0, 1.0);
    f.evidence = "RSS grew " + human(r.growth, "bytes") + " under load and kept " +
                 human(rss_kept, "bytes") + " in cooldown while the live heap kept " +
                 human(std::max(0.0, heap_kept), "bytes") + ": retention, not a leak; " +
                 retention_advice(run.go_runtime);
    out.findings.push_back(std::move(f));
  } else if (r.verdict == Verdict::kLeak && h.verdict != Verdict::kLeak &&
             heap_kept < 0.5 * rss_kept) {
    Finding f = finding_of(r, Signal::kRss, floor, run, v);
    f.verdict = Verdict::kInconclusive;
    f.evidence += "; the live heap did not grow with it (memory outside the profiled allocator?)";
    out.findings.push_back(std::move(f));
  }
}

// Each metric family's series count, judged like a count of threads or descriptors: exact (no
// sampling), with a floor of a few series or a tenth of the baseline's. A family labelled by
// something unbounded (a raw URL, a user id) grows with every new value and never shrinks, since
// client libraries keep a series forever; one labelled by a bounded set (registered routes)
// fills in the first seconds of the load and stays flat, which the second-half test sets apart.
// Only the most severe few families are kept: a service exposes hundreds.
void judge_metrics(const RunSeries& run, const AnalysisOptions& o, Analysis& out) {
  std::vector<Finding> found;
  for (const auto& [name, v] : run.metric_families) {
    double floor = noise_floor(Signal::kMetrics, max_finite(v), first_finite(v), run.sampling_rate);
    Judgement j = judge_values(run, Signal::kMetrics, v, floor, o.judge);
    if (j.verdict == Verdict::kNoLeak && !j.worth_showing) continue;
    Finding f = finding_of(j, Signal::kMetrics, floor, run, v);
    f.metric = name;
    f.evidence = "metric family " + name + ": " + human(j.start_level, "series") + " -> " +
                 human(j.end_level, "series") + " series; " + f.evidence;
    found.push_back(std::move(f));
  }
  std::stable_sort(found.begin(), found.end(), [](const Finding& a, const Finding& b) {
    if (a.verdict != b.verdict) return rank(a.verdict) < rank(b.verdict);
    return a.growth > b.growth;
  });
  if (found.size() > o.max_metric_families) found.resize(o.max_metric_families);
  for (Finding& f : found) out.findings.push_back(std::move(f));
}

void add_forecasts(const RunSeries& run, std::vector<Finding>& findings) {
  if (!run.limit_bytes) return;
  auto usage_of = [&](Signal s) {
    auto it = run.totals.find(s);
    return it == run.totals.end() ? NAN : last_finite(it->second);
  };
  double usage = usage_of(Signal::kRss);
  if (std::isnan(usage)) usage = usage_of(Signal::kHeap);
  if (std::isnan(usage)) usage = 0;
  for (Finding& f : findings) {
    if (f.verdict != Verdict::kLeak || std::string(unit_of(f.kind)) != "bytes") continue;
    if (f.growth_per_s <= 0) continue;
    f.forecast_s_to_limit = std::max(0.0, (*run.limit_bytes - usage) / f.growth_per_s);
  }
}

// The headline's list: each function once per kind (the several lines of one function, an object
// and its string, add up), its name short, at most three.
// `count`, when given, receives the number of distinct entries.
std::string headline_list(const std::vector<const Finding*>& fs, size_t* count = nullptr) {
  struct Entry {
    std::string name;
    Signal kind;
    double growth = 0, per_s = 0;
  };
  std::vector<Entry> entries;
  for (const Finding* f : fs) {
    std::string name = display_name(*f);
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const Entry& e) { return e.name == name && e.kind == f->kind; });
    if (it == entries.end()) it = entries.insert(entries.end(), Entry{name, f->kind});
    it->growth += f->growth;
    it->per_s += f->growth_per_s;
  }
  if (count) *count = entries.size();
  std::string s;
  for (size_t i = 0; i < entries.size() && i < 3; ++i) {
    const Entry& e = entries[i];
    s += (i ? "; " : "") + e.name + " (" + to_string(e.kind) + ", +" +
         human(e.growth, unit_of(e.kind)) + ", " + human(e.per_s, unit_of(e.kind)) + "/s)";
  }
  if (entries.size() > 3) s += "; and " + std::to_string(entries.size() - 3) + " more";
  return s;
}

std::string summarize(const Analysis& a) {
  std::vector<const Finding*> leaks, retention, unsure;
  for (const Finding& f : a.findings) {
    if (f.suppressed) continue;
    if (f.verdict == Verdict::kLeak) leaks.push_back(&f);
    if (f.verdict == Verdict::kRetention) retention.push_back(&f);
    if (f.verdict == Verdict::kInconclusive) unsure.push_back(&f);
  }
  auto list = [](const std::vector<const Finding*>& fs) { return headline_list(fs); };
  if (!leaks.empty()) {
    size_t n = 0;
    std::string named = headline_list(leaks, &n);
    return std::to_string(n) + (n == 1 ? " leak" : " leaks") + " under load: " + named;
  }
  if (!retention.empty()) return "no leak; the allocator retained memory: " + list(retention);
  if (!unsure.empty()) return "inconclusive: " + list(unsure);
  return "no leak: nothing grew under load beyond the noise and stayed";
}

}  // namespace

Analysis analyze(const RunSeries& run, const AnalysisOptions& o) {
  Analysis out;
  std::map<Signal, bool> has_sites;
  bool has_heap = run.totals.count(Signal::kHeap) > 0;
  for (const SiteSeries& s : run.sites) {
    has_sites[s.signal] = true;
    double floor =
        noise_floor(s.signal, max_finite(s.values), first_finite(s.values), run.sampling_rate);
    Judgement j = judge_values(run, s.signal, s.values, floor, o.judge);
    bool unseen =
        s.signal == Signal::kHeap && coarse_rate(run) && j.growth >= 4 * run.sampling_rate;
    if (j.verdict == Verdict::kNoLeak && !j.worth_showing && !unseen) continue;
    Finding f = finding_of(j, s.signal, floor, run, s.values);
    if (s.signal == Signal::kHeap) mark_unseen_growth(run, j, floor, f);
    f.stack = s.stack;
    if (s.site < s.stack.size()) f.site = s.stack[s.site];
    if (f.verdict == Verdict::kLeak && s.signal == Signal::kMmap && has_heap) {
      // The allocator's own mappings (jemalloc's extents): the live objects in them are the
      // heap profile's to judge; what is left is memory the allocator keeps.
      bool allocator = std::any_of(s.stack.begin(), s.stack.end(), is_allocator_frame);
      if (allocator) {
        f.verdict = Verdict::kRetention;
        f.evidence +=
            "; but these mappings are the allocator's own arena, and the live heap "
            "is judged by the heap profile: " +
            retention_advice(run.go_runtime);
      }
    }
    out.findings.push_back(std::move(f));
  }
  merge_lines(out.findings);
  for (const auto& [signal, values] : run.totals) {
    if (signal == Signal::kRss || has_sites[signal]) continue;
    double floor = noise_floor(signal, max_finite(values), first_finite(values), run.sampling_rate);
    Judgement j = judge_values(run, signal, values, floor, o.judge);
    if (j.verdict == Verdict::kNoLeak && !j.worth_showing) continue;
    out.findings.push_back(finding_of(j, signal, floor, run, values));
  }
  judge_rss(run, o, out);
  judge_metrics(run, o, out);
  if (run.sites.empty()) out.notes.push_back("no stacks: /proc figures only");
  if (coarse_rate(run))
    out.notes.push_back("the heap profile samples every " + human(run.sampling_rate, "bytes") +
                        " (asked: " + human(run.requested_rate, "bytes") +
                        "), so a site must grow about " + human(4 * run.sampling_rate, "bytes") +
                        " to be seen, more at a site that also churns: " + lower_rate_advice(run));
  add_forecasts(run, out.findings);
  match_patterns(run, out.findings);
  apply_suppressions(o.suppressions, out.findings);

  std::stable_sort(out.findings.begin(), out.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     if (a.suppressed != b.suppressed) return b.suppressed;
                     if (a.verdict != b.verdict) return rank(a.verdict) < rank(b.verdict);
                     if (a.confidence != b.confidence) return a.confidence > b.confidence;
                     return a.growth > b.growth;
                   });
  size_t shown = 0;
  std::erase_if(out.findings, [&](const Finding& f) {
    return f.verdict == Verdict::kNoLeak && ++shown > o.max_no_leak_shown;
  });
  out.verdict = overall_verdict(out.findings);
  out.summary = summarize(out);
  return out;
}

Verdict overall_verdict(const std::vector<Finding>& findings) {
  Verdict v = Verdict::kNoLeak;
  for (const Finding& f : findings)
    if (!f.suppressed && rank(f.verdict) < rank(v)) v = f.verdict;
  return v;
}

void SiteSeriesBuilder::mark_present(size_t i, Signal signal) {
  snapshots_ = std::max(snapshots_, i + 1);
  auto& p = present_[signal];
  p.resize(snapshots_, false);
  p[i] = true;
}

namespace {
// Keeps v[i] where keep[i]; entries past v's end (not seen yet) are skipped.
template <typename T>
void keep_only(std::vector<T>& v, const std::vector<bool>& keep) {
  size_t out = 0;
  for (size_t i = 0; i < v.size() && i < keep.size(); ++i)
    if (keep[i]) v[out++] = v[i];
  v.resize(out);
}
}  // namespace

void SiteSeriesBuilder::compact(const std::vector<bool>& keep) {
  std::vector<size_t> new_index(keep.size() + 1, 0);  // old position -> last kept at or before
  size_t n = 0;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i]) ++n;
    new_index[i] = n == 0 ? 0 : n - 1;
  }
  for (Stack& s : stacks_) {
    keep_only(s.values, keep);
    if (s.last < keep.size()) s.last = new_index[s.last];
  }
  for (auto& [signal, p] : present_) keep_only(p, keep);
  snapshots_ = n;
}

void SiteSeriesBuilder::add(size_t i, Signal signal, const std::vector<Frame>& stack, double value,
                            const std::vector<Label>& labels, double objects) {
  mark_present(i, signal);
  std::string key(1, static_cast<char>('0' + static_cast<int>(signal)));
  for (const Frame& f : stack)  // the line too: inlined frames share their location's address
    key += "\n" + f.function + "\t" + std::to_string(f.address) + ":" + std::to_string(f.line);
  auto [it, inserted] = index_.emplace(std::move(key), stacks_.size());
  if (inserted) {
    stacks_.push_back({signal, stack, std::vector<double>(snapshots_, 0.0)});
  }
  Stack& s = stacks_[it->second];
  s.values.resize(snapshots_, 0.0);
  s.values[i] += value;
  if (s.last_value < 0 || i > s.last) {  // a later snapshot: its labels start afresh
    s.last = i;
    s.last_value = s.values[i];
    s.labels.clear();
    s.objects = NAN;
    s.large_objects = s.large_bytes = 0;
  } else if (i == s.last) {
    s.last_value = s.values[i];
  }
  if (i != s.last) return;  // labels and objects describe the latest snapshot only
  if (!std::isnan(objects)) s.objects = (std::isnan(s.objects) ? 0 : s.objects) + objects;
  if (objects > 0 && value / objects >= 16 * 1024) {
    s.large_objects += objects;
    s.large_bytes += value;
  }
  for (const Label& l : labels)
    if (!l.str.empty()) s.labels[l.key][l.str] += value;
}

// A site's labels and objects: those of its stacks seen at the latest snapshot any of them was.
void SiteSeriesBuilder::add_details(SiteSeries& site, size_t& latest, const Stack& s) {
  if (s.last > latest) {
    latest = s.last;
    site.labels.clear();
    site.objects = NAN;
    site.large_objects = site.large_bytes = 0;
  }
  if (s.last < latest) return;
  if (!std::isnan(s.objects))
    site.objects = (std::isnan(site.objects) ? 0 : site.objects) + s.objects;
  site.large_objects += s.large_objects;
  site.large_bytes += s.large_bytes;
  for (const auto& [key, values] : s.labels)
    for (const auto& [value, amount] : values) site.labels[key][value] += amount;
}

// The site's other stacks, latest and largest first, beside its representative one.
void SiteSeriesBuilder::add_more_stacks(SiteSeries& site, const Stack* best,
                                        std::vector<std::pair<const Stack*, size_t>>& members) {
  std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
    if (a.first->last != b.first->last) return a.first->last > b.first->last;
    return a.first->last_value > b.first->last_value;
  });
  for (const auto& [stack, at] : members) {
    if (site.more_stacks.size() >= kMoreStacks) break;
    if (stack != best) site.more_stacks.emplace_back(stack->frames, at);
  }
}

std::vector<SiteSeries> SiteSeriesBuilder::finish(std::vector<std::string>* wrappers) const {
  SiteRule rule(options_);
  // The agent's heap and mmap stacks start at the caller of malloc or mmap (sites.h).
  auto allocation = [](Signal s) { return s == Signal::kHeap || s == Signal::kMmap; };
  for (const Stack& s : stacks_) rule.learn(s.frames, allocation(s.signal));
  if (wrappers != nullptr) *wrappers = rule.detected_wrappers();
  struct Site {
    SiteSeries series;
    const Stack* best = nullptr;
    size_t latest = 0;  // the snapshot series.labels and objects describe
    std::vector<std::pair<const Stack*, size_t>> members;  // with their site frame's index
  };
  std::map<std::pair<Signal, std::string>, Site> sites;
  for (const Stack& s : stacks_) {
    size_t at = rule.site_index(s.frames, allocation(s.signal));
    // The site frame and its caller: a helper (often inlined, like a make_record() shared by a
    // leak and a cache) is a different site for each function that calls it.
    std::string key = s.frames.empty() ? std::string("(no stack)") : site_key(s.frames[at]);
    if (at + 1 < s.frames.size()) key += "\t<" + s.frames[at + 1].function;
    Site& site = sites[{s.signal, key}];
    if (site.series.values.empty()) {
      site.series.signal = s.signal;
      site.series.values.assign(snapshots_, 0.0);
    }
    for (size_t i = 0; i < snapshots_ && i < s.values.size(); ++i)
      site.series.values[i] += s.values[i];
    add_details(site.series, site.latest, s);
    site.members.emplace_back(&s, at);
    if (site.best == nullptr || s.last > site.best->last ||
        (s.last == site.best->last && s.last_value > site.best->last_value)) {
      site.best = &s;
      site.series.stack = s.frames;
      site.series.site = at;
    }
  }
  std::vector<SiteSeries> out;
  for (auto& [key, site] : sites) {
    add_more_stacks(site.series, site.best, site.members);
    SiteSeries s = std::move(site.series);
    const auto& present = present_.at(key.first);
    for (size_t i = 0; i < snapshots_; ++i)
      if (i >= present.size() || !present[i]) s.values[i] = NAN;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace leakscope::analysis
