// One site rule: `diff` (a SiteRule learned from both profiles, as cli/cmd_diff.cc does) and
// `run`/`watch` (SiteSeriesBuilder, as cli/detect_analyze.cc feeds it) must name every stack of
// the same profiles with the same site. Checked on the recorded profiles under tests/data and on
// generated ones (a redis-like program with allocator wrappers, a native program without).
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/analysis/sites.h"
#include "core/profile/pprof_codec.h"
#include "core/profile/profile_ops.h"

namespace leakscope::analysis {
namespace {

std::string data(const std::string& name) {
  const char* src = std::getenv("LEAKSCOPE_SOURCE");
  return std::string(src ? src : LEAKSCOPE_SOURCE_DIR) + "/tests/data/" + name;
}

Profile load(const std::string& name) {
  auto p = read_profile_file(data(name));
  if (!p.ok()) ADD_FAILURE() << name << ": " << p.error().message;
  return p.ok() ? *p : Profile{};
}

// A profile with one sample per stack (function names leaf first, "lib:NAME" in libjemalloc),
// values {inuse_space}.
Profile generated(const std::vector<std::pair<std::vector<std::string>, int64_t>>& stacks) {
  Profile p;
  p.sample_types = {{"inuse_space", "bytes"}};
  p.mappings = {{1, 0x400000, 0x800000, 0, "/usr/bin/app", "", true, true, true, true},
                {2, 0x7f0000000000, 0x7f0000400000, 0, "/usr/lib/libjemalloc.so.2", "", true, true,
                 true, true}};
  std::map<std::string, uint64_t> fn_ids;
  for (const auto& [names, value] : stacks) {
    Sample s;
    for (std::string name : names) {
      bool lib = name.rfind("lib:", 0) == 0;
      if (lib) name = name.substr(4);
      auto [it, inserted] = fn_ids.emplace(name, fn_ids.size() + 1);
      if (inserted) p.functions.push_back({it->second, name, name, lib ? "" : "app.c", 0});
      uint64_t id = p.locations.size() + 1;
      uint64_t base = lib ? 0x7f0000000000 : 0x400000;
      p.locations.push_back({id, lib ? 2u : 1u, base + id * 16, {{it->second, 1, 0}}, false});
      s.location_ids.push_back(id);
    }
    s.values = {value};
    p.samples.push_back(std::move(s));
  }
  return p;
}

// The sites each side names, by function; and the builder's representative stacks checked
// against the rule frame by frame.
std::set<std::string> expect_same_sites(const Profile& base, const Profile& next) {
  auto b = select_sample_type(base), n = select_sample_type(next);
  if (!b.ok() || !n.ok()) {
    ADD_FAILURE() << "no sample type";
    return {};
  }
  size_t bi = *b, ni = *n;
  SiteRule rule;  // diff
  rule.learn(base, bi);
  rule.learn(next, ni);
  std::set<std::string> diff_sites;
  SiteSeriesBuilder builder(2);  // run
  bool allocation = is_allocation_profile(next);
  Signal signal = allocation ? Signal::kHeap : Signal::kGoroutines;
  for (auto [i, p, index] : {std::tuple{size_t{0}, &base, bi}, std::tuple{size_t{1}, &next, ni}}) {
    builder.mark_present(i, signal);
    ProfileIndex pi(*p);
    for (const Sample& s : p->samples) {
      if (s.values[index] == 0) continue;
      std::vector<Frame> frames = frames_of(pi, s);
      builder.add(i, signal, frames, static_cast<double>(s.values[index]));
      if (!frames.empty())
        diff_sites.insert(frames[rule.site_index(frames, is_allocation_profile(*p))].function);
    }
  }
  std::set<std::string> run_sites;
  for (const SiteSeries& s : builder.finish()) {
    if (s.stack.empty()) continue;
    run_sites.insert(s.stack[s.site].function);
    EXPECT_EQ(rule.site_index(s.stack, allocation), s.site) << s.stack[s.site].function;
  }
  EXPECT_EQ(run_sites, diff_sites);
  return run_sites;
}

TEST(SiteAgreement, RecordedGoHeapProfiles) {
  auto sites = expect_same_sites(load("cli/go_heap_0.pb.gz"), load("cli/go_heap_1.pb.gz"));
  EXPECT_TRUE(sites.count("main.leakyRemember"));
  expect_same_sites(load("profile/go_heap.pb.gz"), load("profile/go_heap.pb.gz"));
}

TEST(SiteAgreement, RecordedGoroutineProfile) {
  auto sites = expect_same_sites(load("cli/go_goroutine.pb.gz"), load("cli/go_goroutine.pb.gz"));
  EXPECT_FALSE(sites.count("runtime.gopark"));
}

TEST(SiteAgreement, GeneratedProfileWithAllocatorWrappers) {
  auto stack = [](std::vector<std::string> user) {
    std::vector<std::string> s = {"lib:malloc", "ztrymalloc_usable"};
    s.insert(s.end(), user.begin(), user.end());
    s.push_back("main");
    return s;
  };
  Profile base = generated({{stack({"zmalloc", "createClient"}), 4096},
                            {stack({"zmalloc", "listCreate", "createClient"}), 512},
                            {{"lib:mmap64", "lib:malloc_slow", "lib:malloc", "ztrymalloc_usable",
                              "zmalloc", "dictAddRaw", "dbAdd", "main"},
                             1 << 20}});
  Profile next = generated({{stack({"zmalloc", "createClient"}), 4096},
                            {stack({"zmalloc", "createObject", "createStringObject"}), 9000},
                            {stack({"zmalloc", "dictAddRaw", "dbAdd"}), 8000},
                            {stack({"zmalloc_usable", "sdsnewlen", "sdsdup", "dbAdd"}), 7000},
                            {stack({"zmalloc_usable", "sdsnewlen", "sdsempty", "createClient"}), 1},
                            {stack({"zmalloc_usable", "sdsnewlen", "sdscatlen", "addReply"}), 1},
                            {stack({"zmalloc_usable", "sdsnewlen", "createStringObject"}), 1},
                            {{"lib:malloc", "remember", "handle", "main"}, 100}});
  auto sites = expect_same_sites(base, next);
  EXPECT_EQ(sites, (std::set<std::string>{"createClient", "listCreate", "createObject",
                                          "dictAddRaw", "sdsdup", "sdsempty", "sdscatlen",
                                          "createStringObject", "remember"}));
}

// As the agent records them: its hook is malloc, so a stack starts at malloc's caller. Shaped
// after Debian's redis-server under redis-benchmark SET with unique keys.
TEST(SiteAgreement, GeneratedAgentProfileOfRedis) {
  Profile p = generated({{{"zmalloc", "createEmbeddedStringObject", "processMultibulkBuffer"}, 9},
                         {{"zmalloc", "dictAddRaw", "dbAdd", "setKey"}, 9},
                         {{"zmalloc", "createClient", "acceptCommonHandler"}, 1},
                         {{"zmalloc", "listCreate", "createClient"}, 1},
                         {{"zmalloc_usable", "_sdsnewlen", "dbAdd", "setKey"}, 9},
                         {{"zcalloc", "_dictExpand", "dictAddRaw", "dbAdd"}, 9},
                         {{"anetTcpAccept", "acceptTcpHandler", "aeMain"}, 1}});
  auto sites = expect_same_sites(p, p);
  EXPECT_EQ(sites,
            (std::set<std::string>{"createEmbeddedStringObject", "dictAddRaw", "createClient",
                                   "listCreate", "_sdsnewlen", "_dictExpand", "anetTcpAccept"}));
}

TEST(SiteAgreement, GeneratedProfileWithoutWrappers) {
  Profile p = generated({{{"lib:malloc", "leak", "handle", "main"}, 100},
                         {{"lib:malloc", "make_record", "cache", "handle", "main"}, 100},
                         {{"lib:malloc", "make_record", "ring", "handle", "main"}, 100}});
  auto sites = expect_same_sites(p, p);
  EXPECT_EQ(sites, (std::set<std::string>{"leak", "make_record"}));
}

}  // namespace
}  // namespace leakscope::analysis
