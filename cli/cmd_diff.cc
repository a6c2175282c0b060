// leakscope diff BASE NEW: what grew between two profiles of one process, by site. The growth
// profile is pprof's -base: BASE scaled by -1, merged with NEW, so a stack present in both
// nets out. Each sample is charged to its site by the rule `run` uses (core/analysis/sites.h: the
// user's frame, allocator, runtime and allocator-wrapper frames cut off; one SiteRule learned
// from both profiles, so a stack has one site in all three), sites are sorted by growth, and each
// comes with the stack that grew the most through it (leaf first, from the site to the root) and
// its totals in BASE and NEW.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/detect_cli.h"
#include "cli/profile_view.h"
#include "core/analysis/sites.h"
#include "core/profile/profile_ops.h"

namespace leakscope::cli {
namespace {

struct DiffOptions {
  std::string base;
  std::string next;
  int64_t count = 10;  // sites to print; 0: all
  std::string sample_type;
  bool json = false;
  std::vector<std::string> wrappers;  // --wrapper REGEX
};

struct Site {
  Frame frame;               // the site frame of `stack`
  std::vector<Frame> stack;  // the top growing stack through the site, site first
  int64_t stack_growth = 0;
  int64_t growth = 0;
  int64_t base = 0;
  int64_t next = 0;
};

constexpr size_t kTextStackDepth = 8;

// Adds each sample's value to its site; `slot` picks which total. Keeps, per site, the stack
// with the largest value as its top stack (only for the growth profile).
void charge(const Profile& p, size_t index, int64_t Site::*slot, bool keep_stacks,
            analysis::SiteRule& rule, std::map<std::string, Site>& sites) {
  for (const Sample& s : p.samples) {
    int64_t v = s.values[index];
    if (v == 0) continue;
    std::vector<Frame> frames = frames_of(p, s);
    if (frames.empty()) continue;
    size_t at = rule.site_index(frames, analysis::is_allocation_profile(p));
    Site& site = sites[frames[at].function];
    site.*slot += v;
    if (keep_stacks && (site.stack.empty() || v > site.stack_growth)) {
      site.stack.assign(frames.begin() + static_cast<std::ptrdiff_t>(at), frames.end());
      site.stack_growth = v;
      site.frame = frames[at];
    }
  }
}

Result<size_t> same_type_in(const Profile& base, const ValueType& type) {
  for (size_t i = 0; i < base.sample_types.size(); ++i) {
    if (base.sample_types[i] == type) return i;
  }
  return make_error("has no " + type.type + "/" + type.unit + " values to compare with");
}

nlohmann::ordered_json frame_json(const Frame& f) {
  return {{"function", f.function}, {"file", f.file}, {"line", f.line}};
}

void print_json(const ValueType& type, const std::vector<Site>& sites) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Site& s : sites) {
    nlohmann::ordered_json stack = nlohmann::ordered_json::array();
    for (const Frame& f : s.stack) stack.push_back(frame_json(f));
    list.push_back({{"function", s.frame.function},
                    {"file", s.frame.file},
                    {"line", s.frame.line},
                    {"growth", s.growth},
                    {"base", s.base},
                    {"new", s.next},
                    {"stack", stack}});
  }
  nlohmann::ordered_json out = {{"schema", "leakscope.diff/v1"},
                                {"sample_type", type.type},
                                {"unit", type.unit},
                                {"sites", list}};
  std::printf("%s\n", out.dump(2).c_str());
}

std::string where(const Frame& f) {
  if (f.file.empty()) return f.mapping.empty() ? "" : " [" + f.mapping + "]";
  size_t slash = f.file.find_last_of('/');
  std::string base = slash == std::string::npos ? f.file : f.file.substr(slash + 1);
  return " (" + base + (f.line ? ":" + std::to_string(f.line) : "") + ")";
}

void print_text(const DiffOptions& o, const ValueType& type, const std::vector<Site>& sites,
                int64_t growth, size_t total_sites) {
  int64_t lo = 0, hi = std::abs(growth);
  for (const Site& s : sites) {
    for (int64_t v : {s.growth, s.base, s.next}) {
      if (v != 0 && (lo == 0 || std::abs(v) < lo)) lo = std::abs(v);
      hi = std::max(hi, std::abs(v));
    }
  }
  ValueFormat fmt(type.unit, lo, hi);
  auto signed_value = [&](int64_t v) { return (v > 0 ? "+" : "") + fmt(v); };
  std::printf("Growth of %s from %s to %s: %s over %zu sites\n", type.type.c_str(), o.base.c_str(),
              o.next.c_str(), signed_value(growth).c_str(), total_sites);
  std::printf("%10s %10s %10s  %s\n", "growth", "base", "new", "site, then its top stack");
  for (const Site& s : sites) {
    std::printf("%10s %10s %10s  %s%s\n", signed_value(s.growth).c_str(), fmt(s.base).c_str(),
                fmt(s.next).c_str(), s.frame.function.c_str(), where(s.frame).c_str());
    for (size_t i = 1; i < s.stack.size() && i < kTextStackDepth; ++i) {
      std::printf("%34s  %s%s\n", "", s.stack[i].function.c_str(), where(s.stack[i]).c_str());
    }
    if (s.stack.size() > kTextStackDepth) std::printf("%34s  ...\n", "");
  }
}

int diff_command(const DiffOptions& o) {
  for (const std::string& w : o.wrappers)
    if (auto ok = analysis::check_wrapper_pattern(w); !ok) {
      std::fprintf(stderr, "leakscope: error: --wrapper: %s\n", ok.error().message.c_str());
      return kExitUsage;
    }
  Result<Profile> base = load_profile(o.base);
  if (!base.ok()) return fail(base.error().message);
  Result<Profile> next = load_profile(o.next);
  if (!next.ok()) return fail(next.error().message);
  for (auto [path, p] : {std::pair{&o.base, &*base}, std::pair{&o.next, &*next}}) {
    std::string note = symbolize_for_view(*p);
    if (!note.empty())
      std::fprintf(stderr, "leakscope: note: %s: %s\n", path->c_str(), note.c_str());
  }
  Result<size_t> index = pick_sample_type(*next, o.sample_type);
  if (!index.ok()) return fail(o.next + ": " + index.error().message);
  const ValueType type = next->sample_types[*index];
  Result<size_t> base_index = same_type_in(*base, type);
  if (!base_index.ok()) return fail(o.base + ": " + base_index.error().message);

  Profile negated = *base;
  scale(negated, -1);
  Result<Profile> growth = merge({&negated, &*next});
  if (!growth.ok()) return fail(o.base + " and " + o.next + ": " + growth.error().message);
  Result<size_t> growth_index = same_type_in(*growth, type);
  if (!growth_index.ok()) return fail("merged profile " + growth_index.error().message);

  analysis::SiteRule rule({o.wrappers, growth->drop_frames});
  rule.learn(*base, *base_index);
  rule.learn(*next, *index);
  std::map<std::string, Site> by_name;
  charge(*growth, *growth_index, &Site::growth, true, rule, by_name);
  charge(*base, *base_index, &Site::base, false, rule, by_name);
  charge(*next, *index, &Site::next, false, rule, by_name);
  std::vector<Site> sites;
  int64_t total = 0;
  for (auto& [name, site] : by_name) {
    if (site.stack.empty()) continue;  // no net change through this site
    total += site.growth;
    sites.push_back(std::move(site));
  }
  std::stable_sort(sites.begin(), sites.end(),
                   [](const Site& a, const Site& b) { return a.growth > b.growth; });
  size_t total_sites = sites.size();
  if (o.count > 0 && sites.size() > static_cast<size_t>(o.count)) sites.resize(o.count);
  if (o.json) {
    print_json(type, sites);
  } else {
    print_text(o, type, sites, total, total_sites);
  }
  return kExitOk;
}

const RegisterCommand kDiff{{
    "diff",
    "what grew from one pprof file to another, by allocation site (pprof -base)",
    [](CLI::App& sub) -> std::function<int()> {
      auto o = std::make_shared<DiffOptions>();
      sub.add_option("base", o->base, "the earlier profile")->required();
      sub.add_option("new", o->next, "the later profile of the same process")->required();
      sub.add_option("-n", o->count, "sites to show; 0: all (default 10)");
      sub.add_option("--sample-type", o->sample_type,
                     "the value to compare (default as pprof: inuse_space for heap profiles)");
      sub.add_flag("--json", o->json, "print leakscope.diff/v1 JSON, values in the profile's unit");
      sub.add_option("--wrapper", o->wrappers, kWrapperHelp)->allow_extra_args(false);
      return [o] { return diff_command(*o); };
    },
}};

}  // namespace
}  // namespace leakscope::cli
