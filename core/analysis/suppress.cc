// See suppress.h. Matching is a small backtracking glob over (pattern, name) with '*' only:
// patterns are short and written by people, so the quadratic worst case never matters.
#include "core/analysis/suppress.h"

#include <fstream>
#include <sstream>

#include "core/analysis/sites.h"

namespace leakscope::analysis {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Glob match of the whole of `name` against `pat` ('*' any run).
bool glob(const char* pat, const char* name) {
  const char* star = nullptr;
  const char* resume = nullptr;
  while (*name) {
    if (*pat == '*') {
      star = pat++;
      resume = name;
    } else if (*pat == *name) {
      ++pat;
      ++name;
    } else if (star) {
      pat = star + 1;
      name = ++resume;
    } else {
      return false;
    }
  }
  while (*pat == '*') ++pat;
  return *pat == '\0';
}

}  // namespace

Result<Suppressions> parse_suppressions(const std::string& text) {
  Suppressions s;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.rfind("leak:", 0) == 0) line = trim(line.substr(5));
    if (line.rfind("wrapper:", 0) == 0) {
      std::string re = trim(line.substr(8));
      auto ok = check_wrapper_pattern(re);
      if (!ok) return ok.error().wrap("line " + std::to_string(number));
      s.wrappers.push_back(re);
      continue;
    }
    if (line.empty()) continue;
    std::string core = line;
    if (core.front() == '^') core.erase(0, 1);
    if (!core.empty() && core.back() == '$') core.pop_back();
    if (core.find_first_not_of('*') == std::string::npos)
      return make_error("line " + std::to_string(number) + ": pattern '" + line +
                        "' would match every function");
    s.patterns.push_back(line);
  }
  return s;
}

Result<Suppressions> read_suppressions(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("reading suppressions " + path + ": cannot open");
  std::stringstream buf;
  buf << in.rdbuf();
  auto parsed = parse_suppressions(buf.str());
  if (!parsed) return parsed.error().wrap("reading suppressions " + path);
  return parsed;
}

bool pattern_matches(const std::string& pattern, const std::string& name) {
  std::string p = pattern;
  bool anchored_start = !p.empty() && p.front() == '^';
  if (anchored_start) p.erase(0, 1);
  bool anchored_end = !p.empty() && p.back() == '$';
  if (anchored_end) p.pop_back();
  if (!anchored_start) p.insert(0, "*");
  if (!anchored_end) p.push_back('*');
  return glob(p.c_str(), name.c_str());
}

size_t apply_suppressions(const Suppressions& s, std::vector<Finding>& findings) {
  size_t marked = 0;
  for (Finding& f : findings) {
    auto matches = [&](const std::string& fn) {
      if (fn.empty()) return false;
      for (const std::string& p : s.patterns)
        if (pattern_matches(p, fn)) return true;
      return false;
    };
    bool hit = matches(f.site.function) || matches(f.metric);
    for (size_t i = 0; !hit && i < f.stack.size(); ++i) hit = matches(f.stack[i].function);
    if (hit && !f.suppressed) {
      f.suppressed = true;
      ++marked;
    }
  }
  return marked;
}

}  // namespace leakscope::analysis
