// The evidence the pattern matchers read (patterns.cc): the run and its findings, frames found
// on a function's stacks, the dominant value of a label, and the small helpers around them.
// Internal to the catalogue.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/analysis/finding.h"

namespace leakscope::analysis::evidence {

using Needles = std::span<const std::string_view>;

// What a matcher sees: the run the findings were judged from, and every finding of it.
struct Context {
  const RunSeries& run;
  const std::vector<Finding>& findings;
};

using Matcher = std::optional<Pattern> (*)(const Finding&, const Context&);

bool starts_with(std::string_view s, std::string_view p);
// True when `s` contains any of `needles`.
bool has_any(std::string_view s, Needles needles);
// The first frame (leaf first, among the first `end`) whose function contains a needle.
const Frame* find_frame(const std::vector<Frame>& stack, Needles needles,
                        size_t end = std::string::npos);
// A C++ or Rust frame's name without template arguments, parameters and return type, for an
// evidence sentence: "std::vector::_M_realloc_insert". Other names (Go's) as they are.
std::string short_frame(const std::string& name);
double last_of(const std::vector<double>& v);  // the last finite value, 0 if none
std::string count_of(double v);                // "12"
// Go closures (main.f.func1) and Rust closures (f::{{closure}}) belong to the function around
// them: a and b are related when equal or one is the other's closure.
bool related(const std::string& a, const std::string& b);
// The site series a finding was judged from (its representative stack is the finding's).
const SiteSeries* series_of(const Finding& f, const Context& c);
std::string site_function(const SiteSeries& s);
bool is_leak(const Finding& f);         // a leak, not suppressed
std::string name_of(const Finding& f);  // its site's function, or "the process"

// A frame found on the stacks of a function's sites, and the share of the function's value that
// the stacks carrying such a frame hold at the end.
struct Hit {
  std::string function;  // short_frame() of the first found
  double value = 0;
  double total = 0;
  double share() const { return total > 0 ? value / total : 0; }
};

// How a stack is searched: the frame it offers, among the first `end`, or null.
using FramePick = const Frame* (*)(const std::vector<Frame>& stack, size_t end, Needles needles);
const Frame* pick_needle(const std::vector<Frame>& stack, size_t end, Needles needles);

// Looks through every site of `signal` in function `fn` (the finding's own site and its siblings
// on the function's other lines: an allocation inside push_back is a sibling on the push_back's
// line), leafward of the site frame when `inner`.
Hit find_in_function(const Context& c, Signal signal, const std::string& fn, Needles needles,
                     bool inner, FramePick pick = pick_needle);

// The most common value of a label on a site's descriptors or threads, and its share.
struct Dominant {
  std::string value;
  double count = 0;
  double total = 0;
};
Dominant dominant(const SiteSeries* s, const std::string& key);

}  // namespace leakscope::analysis::evidence
