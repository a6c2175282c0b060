// See patterns_evidence.h.
#include "core/analysis/patterns_evidence.h"

#include <algorithm>
#include <cmath>

#include "core/analysis/judge.h"

namespace leakscope::analysis::evidence {
namespace {

bool same_stack(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Frame& x, const Frame& y) {
    return x.function == y.function && x.file == y.file && x.line == y.line &&
           x.address == y.address;
  });
}

}  // namespace

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool has_any(std::string_view s, Needles needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return s.find(n) != std::string_view::npos; });
}

// The first frame (leaf first, among the first `end`) whose function contains a needle.
const Frame* find_frame(const std::vector<Frame>& stack, Needles needles, size_t end) {
  for (size_t i = 0; i < stack.size() && i < end; ++i)
    if (has_any(stack[i].function, needles)) return &stack[i];
  return nullptr;
}

// A C++ or Rust frame's name without template arguments, parameters and return type, for an
// evidence sentence: "std::vector::_M_realloc_insert". Other names (Go's) as they are.
std::string short_frame(const std::string& name) {
  if (name.find('<') == std::string::npos && name.find(" [clone") == std::string::npos) return name;
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    char ch = name[i];
    if (ch == '<') ++depth;
    if (depth == 0 && name.compare(i, 7, " [clone") == 0) break;
    if (depth == 0 && ch == '(') {
      if (name.compare(i, 21, "(anonymous namespace)") != 0) break;
      out += "(anonymous namespace)";
      i += 20;
      continue;
    }
    if (depth == 0 && ch == ' ') out.clear();  // a return type before the name
    if (depth == 0 && ch != ' ') out += ch;
    if (ch == '>' && depth > 0) --depth;
  }
  return out.empty() ? name : out;
}

double last_of(const std::vector<double>& v) {
  for (auto it = v.rbegin(); it != v.rend(); ++it)
    if (!std::isnan(*it)) return *it;
  return 0;
}

std::string count_of(double v) { return human(v, "count"); }

// Go closures (main.f.func1) and Rust closures (f::{{closure}}) belong to the function around them.
bool related(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  if (a == b) return true;
  for (const char* sep : {".", "::"})
    if (starts_with(a, b + sep) || starts_with(b, a + sep)) return true;
  return false;
}

// The site series a finding was judged from (its representative stack is the finding's).
const SiteSeries* series_of(const Finding& f, const Context& c) {
  if (f.stack.empty()) return nullptr;
  for (const SiteSeries& s : c.run.sites)
    if (s.signal == f.kind && same_stack(s.stack, f.stack)) return &s;
  return nullptr;
}

std::string site_function(const SiteSeries& s) {
  return s.site < s.stack.size() ? s.stack[s.site].function : std::string();
}

const Frame* pick_needle(const std::vector<Frame>& stack, size_t end, Needles needles) {
  return find_frame(stack, needles, end);
}

Hit find_in_function(const Context& c, Signal signal, const std::string& fn, Needles needles,
                     bool inner, FramePick pick) {
  Hit hit;
  for (const SiteSeries& s : c.run.sites) {
    if (s.signal != signal || site_function(s) != fn) continue;
    double v = std::max(0.0, last_of(s.values));
    hit.total += v;
    const Frame* f = pick(s.stack, inner ? s.site : std::string::npos, needles);
    for (size_t k = 0; f == nullptr && k < s.more_stacks.size(); ++k) {
      const auto& [stack, at] = s.more_stacks[k];
      f = pick(stack, inner ? at : std::string::npos, needles);
    }
    if (f == nullptr) continue;
    hit.value += v;
    if (hit.function.empty()) hit.function = short_frame(f->function);
  }
  return hit;
}

Dominant dominant(const SiteSeries* s, const std::string& key) {
  Dominant d;
  if (s == nullptr) return d;
  auto it = s->labels.find(key);
  if (it == s->labels.end()) return d;
  for (const auto& [value, n] : it->second) {
    d.total += n;
    if (n > d.count) d = Dominant{value, n, d.total};
  }
  d.total = 0;
  for (const auto& [value, n] : it->second) d.total += n;
  return d;
}

bool is_leak(const Finding& f) { return f.verdict == Verdict::kLeak && !f.suppressed; }

std::string name_of(const Finding& f) {
  return f.site.function.empty() ? std::string("the process") : f.site.function;
}

}  // namespace leakscope::analysis::evidence
