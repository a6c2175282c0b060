// String names of the analysis enums, exactly as report.json spells them.
#include "core/analysis/finding.h"

#include <array>
#include <utility>

namespace leakscope::analysis {
namespace {

constexpr std::array<std::pair<Signal, const char*>, 7> kSignals = {{
    {Signal::kHeap, "heap"},
    {Signal::kMmap, "mmap"},
    {Signal::kThreads, "threads"},
    {Signal::kFds, "fds"},
    {Signal::kGoroutines, "goroutines"},
    {Signal::kRss, "rss"},
    {Signal::kMetrics, "metrics"},
}};
constexpr std::array<std::pair<Phase, const char*>, 4> kPhases = {{
    {Phase::kBaseline, "baseline"},
    {Phase::kLoad, "load"},
    {Phase::kCooldown, "cooldown"},
    {Phase::kWatch, "watch"},
}};
constexpr std::array<std::pair<Verdict, const char*>, 4> kVerdicts = {{
    {Verdict::kLeak, "leak"},
    {Verdict::kRetention, "retention"},
    {Verdict::kInconclusive, "inconclusive"},
    {Verdict::kNoLeak, "no-leak"},
}};

template <typename E, size_t N>
const char* name_of(const std::array<std::pair<E, const char*>, N>& table, E e) {
  for (const auto& [value, name] : table)
    if (value == e) return name;
  return "?";
}

template <typename E, size_t N>
std::optional<E> parse(const std::array<std::pair<E, const char*>, N>& table,
                       const std::string& s) {
  for (const auto& [value, name] : table)
    if (s == name) return value;
  return std::nullopt;
}

}  // namespace

const char* to_string(Signal s) { return name_of(kSignals, s); }
const char* to_string(Phase p) { return name_of(kPhases, p); }
const char* to_string(Verdict v) { return name_of(kVerdicts, v); }
std::optional<Signal> signal_from_string(const std::string& s) { return parse(kSignals, s); }
std::optional<Phase> phase_from_string(const std::string& s) { return parse(kPhases, s); }
std::optional<Verdict> verdict_from_string(const std::string& s) { return parse(kVerdicts, s); }

const char* unit_of(Signal s) {
  switch (s) {
    case Signal::kHeap:
    case Signal::kMmap:
    case Signal::kRss:
      return "bytes";
    case Signal::kMetrics:
      return "series";
    default:
      return "count";
  }
}

std::string short_function_name(const std::string& name, size_t max) {
  if (name.size() <= max) return name;
  for (size_t at = name.find('('); at != std::string::npos; at = name.find('(', at + 1)) {
    bool op = at >= 8 && name.compare(at - 8, 8, "operator") == 0;
    if (!op && name.compare(at, 10, "(anonymous") != 0) return name.substr(0, at) + "(...)";
  }
  return name.substr(0, max - 3) + "...";
}

std::string display_name(const Finding& f) {
  if (!f.metric.empty()) return f.metric;
  if (f.site.function.empty()) return kWholeProcess;
  return short_function_name(f.site.function);
}

}  // namespace leakscope::analysis
