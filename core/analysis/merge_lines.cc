// See merge_lines.h.
#include "core/analysis/merge_lines.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "core/analysis/judge.h"

namespace leakscope::analysis {
namespace {

// kind, function, file and caller: what the lines of one function from one caller share.
std::string group_key(const Finding& f) {
  if (f.site.function.empty() || is_unsymbolized(f.site) || !f.metric.empty()) return "";
  std::string caller;
  for (size_t i = 0; i + 1 < f.stack.size(); ++i)
    if (f.stack[i].function == f.site.function && f.stack[i].line == f.site.line) {
      caller = f.stack[i + 1].function;
      break;
    }
  return std::string(to_string(f.kind)) + "\t" + f.site.function + "\t" + f.site.file + "\t" +
         caller;
}

void add_series(std::vector<double>& into, const std::vector<double>& v) {
  if (into.size() < v.size()) into.resize(v.size(), NAN);
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isnan(v[i])) into[i] = std::isnan(into[i]) ? v[i] : into[i] + v[i];
}

// The member that speaks for the group: the most severe verdict, then the largest growth.
bool speaks_before(const Finding& a, const Finding& b) {
  if (a.verdict != b.verdict) return static_cast<int>(a.verdict) < static_cast<int>(b.verdict);
  return a.growth > b.growth;
}

Finding merged(std::vector<const Finding*> group) {
  std::sort(group.begin(), group.end(),
            [](const Finding* a, const Finding* b) { return speaks_before(*a, *b); });
  Finding out = *group.front();
  std::vector<const Finding*> by_line = group;
  std::sort(by_line.begin(), by_line.end(),
            [](const Finding* a, const Finding* b) { return a->site.line < b->site.line; });
  std::string lines;
  out.growth = out.growth_per_s = 0;
  out.values.clear();
  for (size_t i = 0; i < by_line.size(); ++i) {
    const Finding& f = *by_line[i];
    out.growth += f.growth;
    out.growth_per_s += f.growth_per_s;
    add_series(out.values, f.values);
    lines += std::string(i ? ", " : "") + std::to_string(f.site.line) + " (" +
             (f.growth >= 0 ? "+" : "") + human(f.growth, unit_of(f.kind)) + ")";
  }
  out.evidence = "lines " + lines + " of " + out.site.function +
                 " are one finding, their series summed; line " + std::to_string(out.site.line) +
                 ": " + out.evidence;
  return out;
}

}  // namespace

void merge_lines(std::vector<Finding>& findings) {
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < findings.size(); ++i)
    if (std::string key = group_key(findings[i]); !key.empty()) groups[key].push_back(i);
  std::vector<bool> drop(findings.size(), false);
  for (const auto& [key, members] : groups) {
    if (members.size() < 2) continue;
    std::vector<const Finding*> group;
    for (size_t i : members) group.push_back(&findings[i]);
    Finding one = merged(group);
    findings[members.front()] = std::move(one);
    for (size_t k = 1; k < members.size(); ++k) drop[members[k]] = true;
  }
  std::vector<Finding> kept;
  for (size_t i = 0; i < findings.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(findings[i]));
  findings = std::move(kept);
}

}  // namespace leakscope::analysis
