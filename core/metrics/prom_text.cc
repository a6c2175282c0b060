// The Prometheus text format 0.0.4, read for series counts.
//
// The grammar (prometheus.io/docs/instrumenting/exposition_formats, and client_golang's expfmt
// parser for the corners the page leaves open). Lines end with '\n' (a trailing '\r' is
// tolerated); blanks are spaces and tabs, and may lead a line. A line is empty, a comment, or a
// sample:
//
//   # HELP name docstring           declares the family `name` (its text is not needed here)
//   # TYPE name counter|gauge|histogram|summary|untyped
//   # anything else                 ignored
//   name [{label="value", ...[,]}] value [timestamp]
//
// Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*; a label value
// is double-quoted with three escapes (\\, \", \n) and any other byte as itself. A value is a
// float (Go's syntax: 1, -2.5e3, +Inf, -Inf, NaN); a timestamp an integer of milliseconds. As in
// expfmt, a second # TYPE for a name, or one after that name's samples, is an error, and so is
// a label named twice in one sample.
//
// Families. A sample belongs to the family of its name, except that the samples of a histogram
// `x` are named x_bucket, x_sum and x_count, and those of a summary `x` are x, x_sum and x_count:
// they fold into `x` once # TYPE has said what `x` is (exposition always puts # TYPE first).
// A sample with no # TYPE before it makes an untyped family of its own name.
//
// Series. The series of a family are its distinct label sets, compared as sorted (name, value)
// lists, with the labels that index *within* a series left out: `le` for a histogram's buckets,
// `quantile` for a summary's quantiles. So `h_bucket{path="/a",le="0.1"}`, `h_bucket{path="/a",
// le="+Inf"}`, `h_sum{path="/a"}` and `h_count{path="/a"}` are one series of h. Label sets are
// kept as strings, so the counts are exact; their memory is bounded by the input's size, and the
// input by ParseLimits.
#include "core/metrics/prom_text.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace leakscope::metrics {
namespace {

constexpr std::pair<MetricType, const char*> kTypes[] = {
    {MetricType::kUntyped, "untyped"}, {MetricType::kCounter, "counter"},
    {MetricType::kGauge, "gauge"},     {MetricType::kHistogram, "histogram"},
    {MetricType::kSummary, "summary"},
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_alpha_(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A cursor over one line.
struct Cursor {
  std::string_view s;
  size_t at = 0;

  bool done() const { return at >= s.size(); }
  char peek() const { return done() ? '\0' : s[at]; }
  void skip_blanks() {
    while (!done() && is_blank(s[at])) ++at;
  }
  // A name of [a-zA-Z_] (plus ':' when `colons`) then [a-zA-Z0-9_]; empty if none starts here.
  std::string_view name(bool colons) {
    size_t from = at;
    auto ok = [&](char c, bool first) {
      return is_alpha_(c) || (colons && c == ':') || (!first && is_digit(c));
    };
    while (!done() && ok(s[at], at == from)) ++at;
    return s.substr(from, at - from);
  }
  std::string_view token() {
    size_t from = at;
    while (!done() && !is_blank(s[at])) ++at;
    return s.substr(from, at - from);
  }
};

bool parse_value(std::string_view t) {
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  if (t.empty() || t[0] == '+' || (t[0] == '-' && t.size() > 1 && t[1] == '+')) return false;
  double v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  return ec == std::errc() && end == t.data() + t.size();
}

bool parse_timestamp(std::string_view t) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  return !t.empty() && ec == std::errc() && end == t.data() + t.size();
}

using Labels = std::vector<std::pair<std::string, std::string>>;

class Parser {
 public:
  explicit Parser(const ParseLimits& limits) : limits_(limits) {}

  Result<void> line(std::string_view text) {
    Cursor c{text};
    c.skip_blanks();
    if (c.done()) return {};
    if (c.peek() == '#') return comment(c);
    return sample(c);
  }

  std::vector<Family> finish() {
    std::vector<Family> out;
    out.reserve(families_.size());
    for (State& f : families_) {
      f.family.series = static_cast<int64_t>(f.keys.size());
      for (auto& [name, seen] : f.label_values) {
        LabelValues& l = f.family.labels.emplace_back();
        l.name = name;
        l.values = static_cast<int64_t>(seen.values.size());
        l.examples = std::move(seen.examples);
      }
      out.push_back(std::move(f.family));
    }
    return out;
  }

  size_t line_no = 0;

 private:
  // A family being read. Invariant: family.series is only set by finish(); keys.size() is the
  // count, and the sum of keys.size() over every family is total_series_.
  struct State {
    Family family;
    bool typed = false;
    bool has_samples = false;
    std::unordered_set<std::string> keys;
    struct Seen {
      std::unordered_set<std::string> values;
      std::vector<std::string> examples;
    };
    std::map<std::string, Seen> label_values = {};  // of new series only: bounded like keys
  };

  Error error(const std::string& what) const {
    return make_error("line " + std::to_string(line_no) + ": " + what);
  }

  State& family(std::string_view name) {
    auto [it, inserted] = index_.try_emplace(std::string(name), families_.size());
    if (inserted) families_.push_back(State{Family{std::string(name)}, false, false, {}, {}});
    return families_[it->second];
  }

  State* find(std::string_view name) {
    auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &families_[it->second];
  }

  // The family a sample named `name` belongs to (see the essay: suffixes fold into a typed
  // histogram or summary).
  State& family_of_sample(std::string_view name) {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
      State* base = find(name.substr(0, name.size() - suffix.size()));
      if (!base) continue;
      MetricType t = base->family.type;
      if (t == MetricType::kHistogram || (t == MetricType::kSummary && suffix != "_bucket"))
        return *base;
    }
    return family(name);
  }

  Result<void> comment(Cursor& c) {
    ++c.at;  // '#'
    c.skip_blanks();
    std::string_view keyword = c.token();
    if (keyword != "HELP" && keyword != "TYPE") return {};
    c.skip_blanks();
    std::string_view name = c.name(true);
    if (name.empty()) return error("# " + std::string(keyword) + " without a metric name");
    if (!c.done() && !is_blank(c.peek()))
      return error("bad metric name in # " + std::string(keyword));
    State& f = family(name);
    if (keyword == "HELP") return {};
    c.skip_blanks();
    std::string_view word = c.token();
    c.skip_blanks();
    auto type = std::find_if(std::begin(kTypes), std::end(kTypes),
                             [&](const auto& t) { return word == t.second; });
    if (type == std::end(kTypes) || !c.done())
      return error("unknown type '" + std::string(word) + "' for " + std::string(name));
    if (f.typed) return error("second # TYPE for " + std::string(name));
    if (f.has_samples) return error("# TYPE for " + std::string(name) + " after its samples");
    f.typed = true;
    f.family.type = type->first;
    return {};
  }

  Result<void> label_value(Cursor& c, std::string& out) {
    ++c.at;  // opening quote
    while (!c.done()) {
      char ch = c.s[c.at++];
      if (ch == '"') return {};
      if (ch != '\\') {
        out += ch;
        continue;
      }
      if (c.done()) break;
      char e = c.s[c.at++];
      if (e == '\\' || e == '"')
        out += e;
      else if (e == 'n')
        out += '\n';
      else
        return error(std::string("invalid escape '\\") + e + "' in a label value");
    }
    return error("unterminated label value");
  }

  Result<void> labels(Cursor& c, Labels& out) {
    ++c.at;  // '{'
    for (;;) {
      c.skip_blanks();
      if (c.peek() == '}') break;
      std::string_view name = c.name(false);
      if (name.empty()) return error("bad label name at column " + std::to_string(c.at + 1));
      c.skip_blanks();
      if (c.peek() != '=') return error("no '=' after label " + std::string(name));
      ++c.at;
      c.skip_blanks();
      if (c.peek() != '"') return error("label " + std::string(name) + ": value not quoted");
      std::string value;
      if (auto ok = label_value(c, value); !ok) return ok;
      for (const auto& [n, v] : out)
        if (n == name) return error("label " + std::string(name) + " twice in one sample");
      out.emplace_back(std::string(name), std::move(value));
      c.skip_blanks();
      if (c.peek() == ',') {
        ++c.at;
        continue;
      }
      if (c.peek() != '}') return error("expected ',' or '}' after label " + std::string(name));
      break;
    }
    ++c.at;  // '}'
    return {};
  }

  Result<void> sample(Cursor& c) {
    std::string_view name = c.name(true);
    if (name.empty()) return error("a sample must start with a metric name");
    if (!c.done() && !is_blank(c.peek()) && c.peek() != '{')
      return error("bad metric name '" + std::string(name) + std::string(1, c.peek()) + "...'");
    Labels ls;
    c.skip_blanks();
    if (c.peek() == '{')
      if (auto ok = labels(c, ls); !ok) return ok;
    c.skip_blanks();
    std::string_view value = c.token();
    if (value.empty()) return error("no value for " + std::string(name));
    if (!parse_value(value)) return error("bad value '" + std::string(value) + "'");
    c.skip_blanks();
    if (!c.done()) {
      std::string_view ts = c.token();
      if (!parse_timestamp(ts)) return error("bad timestamp '" + std::string(ts) + "'");
      c.skip_blanks();
      if (!c.done()) return error("unexpected text after the timestamp");
    }
    return count(family_of_sample(name), std::move(ls));
  }

  Result<void> count(State& f, Labels ls) {
    f.has_samples = true;
    const char* within = f.family.type == MetricType::kHistogram ? "le"
                         : f.family.type == MetricType::kSummary ? "quantile"
                                                                 : nullptr;
    if (within) std::erase_if(ls, [&](const auto& l) { return l.first == within; });
    std::sort(ls.begin(), ls.end());
    std::string key;
    for (const auto& [n, v] : ls) {
      key += n;
      key += '\0';
      key += v;
      key += '\0';
    }
    if (!f.keys.insert(std::move(key)).second) return {};
    for (auto& [n, v] : ls) {
      auto& seen = f.label_values[n];
      if (seen.examples.size() < kLabelExamples && !seen.values.count(v))
        seen.examples.push_back(v);
      seen.values.insert(std::move(v));
    }
    if (++total_series_ > limits_.max_series)
      return error("more than " + std::to_string(limits_.max_series) + " series");
    return {};
  }

  const ParseLimits& limits_;
  std::vector<State> families_;
  std::unordered_map<std::string, size_t> index_;  // name -> index in families_
  int64_t total_series_ = 0;
};

}  // namespace

const char* to_string(MetricType type) {
  for (const auto& [t, name] : kTypes)
    if (t == type) return name;
  return "untyped";
}

Result<std::vector<Family>> parse_prom_text(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes)
    return make_error("input: " + std::to_string(text.size()) + " bytes, over the " +
                      std::to_string(limits.max_bytes) + "-byte limit");
  Parser p(limits);
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++p.line_no;
    if (auto ok = p.line(line); !ok) return ok.error();
    at = end + 1;
  }
  return p.finish();
}

}  // namespace leakscope::metrics
