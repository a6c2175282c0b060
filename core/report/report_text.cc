// The text report, for a terminal or a CI log. The verdict comes first, in one line, because it
// is what a person (or a script grepping the log) wants; then one block per finding: what, where,
// how fast, how sure, the evidence sentence and a short stack (the site and a few callers).
// Suppressed findings are listed last and marked.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/analysis/judge.h"
#include "core/analysis/sites.h"
#include "core/report/report.h"

namespace leakscope::report {
namespace {

using analysis::Finding;
using analysis::human;

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string duration(double s) {
  if (s < 120) return fmt("%.0f s", s);
  if (s < 7200) return fmt("%.0f min", s / 60);
  if (s < 172800) return fmt("%.1f h", s / 3600);
  return fmt("%.1f days", s / 86400);
}

std::string basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string where(const Frame& f) {
  std::string s = f.function.empty() ? std::string(analysis::kWholeProcess) : f.function;
  if (!f.file.empty()) s += "  " + f.file + (f.line > 0 ? ":" + std::to_string(f.line) : "");
  return s;
}

std::string short_name(const std::string& name) { return analysis::short_function_name(name); }

// The site and up to three callers in the user's code, "site (file:line) <- caller <- ...":
// library frames between them (std::__invoke and its kin) are left to report.json.
std::string short_stack(const Finding& f) {
  size_t start = 0;
  for (size_t i = 0; i < f.stack.size(); ++i)
    if (f.stack[i].function == f.site.function && f.stack[i].line == f.site.line) {
      start = i;
      break;
    }
  std::string s;
  int shown = 0;
  for (size_t i = start; i < f.stack.size(); ++i) {
    const Frame& fr = f.stack[i];
    if (i > start && analysis::is_runtime_frame(fr)) continue;
    if (shown == 4) {
      s += " <- ...";
      break;
    }
    s += (shown++ ? " <- " : "") + short_name(fr.function);
    if (!fr.file.empty() && fr.line > 0)
      s += " (" + basename(fr.file) + ":" + std::to_string(fr.line) + ")";
  }
  return s;
}

// "likely cause" and "what to change" from the pattern catalogue, with the evidence that matched;
// for a leak no pattern explains, says so. Nothing for other findings without a pattern.
std::string pattern_text(const Finding& f) {
  const analysis::Pattern& p = f.pattern;
  if (p.id.empty()) return "";
  if (p.id == "none") {
    if (f.verdict != analysis::Verdict::kLeak) return "";
    return "    pattern: none matched (" + p.evidence + ")\n";
  }
  std::string s = "    likely cause [" + p.id + "]: " + p.cause + "\n";
  s += "      matched: " + p.evidence + "\n";
  if (!p.fix.empty()) s += "    what to change: " + p.fix + "\n";
  return s;
}

std::string finding_text(const Finding& f, size_t n) {
  const char* unit = analysis::unit_of(f.kind);
  std::string s = "[" + std::to_string(n) + "] " + upper(analysis::to_string(f.verdict)) +
                  (f.suppressed ? " (suppressed)" : "") + "  " + analysis::to_string(f.kind) +
                  "  " + (f.metric.empty() ? where(f.site) : f.metric + "  (metric family)") + "\n";
  s += "    growth " + std::string(f.growth >= 0 ? "+" : "") + human(f.growth, unit) + " (" +
       human(f.growth_per_s, unit) + "/s)";
  // An inconclusive finding has no confidence to speak of: the evidence says what is missing.
  if (f.verdict != analysis::Verdict::kInconclusive)
    s += ", confidence " + fmt("%.2f", f.confidence);
  if (f.forecast_s_to_limit) s += ", memory limit in ~" + duration(*f.forecast_s_to_limit);
  s += "\n    " + f.evidence + "\n";
  s += pattern_text(f);
  if (!f.stack.empty()) s += "    stack: " + short_stack(f) + "\n";
  return s;
}

}  // namespace

std::string render_text(const Report& r, size_t max_findings) {
  std::string s = "leakscope: " + upper(analysis::to_string(r.verdict)) + ": " + r.summary + "\n";
  std::string target;
  for (const std::string& a : r.target.command) target += (target.empty() ? "" : " ") + a;
  if (target.empty() && r.target.url) target = *r.target.url;
  if (target.empty() && r.target.pid) target = "pid " + std::to_string(*r.target.pid);
  s += "target: " + target + " (" + r.target.source + "), " + duration(r.duration_s) +
       ", a snapshot every " + fmt("%g", r.interval_s) + " s";
  if (r.limit_bytes)
    s += ", limit " + human(static_cast<double>(*r.limit_bytes), "bytes") + " (" +
         r.limit_source.value_or("?") + ")";
  s += "\n";
  if (!r.phases.empty()) {
    s += "phases:";
    for (const PhaseSpan& p : r.phases)
      s += " " + p.name + " " + fmt("%.0f", p.start_s) + "-" + fmt("%.0f s", p.end_s) + ";";
    s.back() = '\n';
  }
  size_t shown = 0;
  for (const Finding& f : r.findings) {
    if (shown == max_findings) {
      s += "... and " + std::to_string(r.findings.size() - shown) + " more in report.json\n";
      break;
    }
    s += "\n" + finding_text(f, ++shown);
  }
  if (r.findings.empty()) s += "\nno site grew under load beyond the noise floor\n";
  for (const std::string& note : r.notes) s += "note: " + note + "\n";
  return s;
}

std::string folded(const std::vector<FlameEntry>& entries) {
  std::string out;
  for (const FlameEntry& e : entries) {
    if (e.value <= 0 || e.stack.empty()) continue;
    std::string line;
    for (size_t i = 0; i < e.stack.size(); ++i) {
      std::string frame = e.stack[i].empty() ? std::string("?") : e.stack[i];
      for (char& c : frame)
        if (c == ';' || c == '\n') c = ':';
      line += (i ? ";" : "") + frame;
    }
    out += line + " " + std::to_string(e.value) + "\n";
  }
  return out;
}

Flame make_flame(const std::vector<FlameEntry>& before, const std::vector<FlameEntry>& final,
                 std::string unit) {
  std::map<std::vector<std::string>, int64_t> end, delta;
  for (const FlameEntry& e : final) end[e.stack] += e.value;
  delta = end;
  for (const FlameEntry& e : before) delta[e.stack] -= e.value;
  Flame f;
  f.unit = std::move(unit);
  for (const auto& [stack, v] : end)
    if (v > 0) f.final.push_back(FlameEntry{stack, v});
  for (const auto& [stack, v] : delta)
    if (v > 0) f.growth.push_back(FlameEntry{stack, v});
  auto by_value = [](const FlameEntry& a, const FlameEntry& b) { return a.value > b.value; };
  std::stable_sort(f.final.begin(), f.final.end(), by_value);
  std::stable_sort(f.growth.begin(), f.growth.end(), by_value);
  return f;
}

}  // namespace leakscope::report
