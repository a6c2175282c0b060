// The symbolizer on this test's own code: it builds a profile the way the agent does (raw
// addresses, mappings from /proc/self/maps, no functions) and checks names, lines, inlined
// frames, the symbol-table fallback, build ID matching and separate debuginfo.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/symbolize/symbolizer.h"
#include "tests/unit/symbolize/testee.h"

namespace leakscope {
namespace {

// The /proc/self/maps line that maps `addr`, as a profile Mapping.
Mapping mapping_of(const void* addr, uint64_t id) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  auto a = reinterpret_cast<uint64_t>(addr);
  while (std::getline(maps, line)) {
    uint64_t start = 0, end = 0, offset = 0;
    char perms[8] = {};
    int path_at = 0;
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", &start,
                    &end, perms, &offset, &path_at) < 4) {
      continue;
    }
    if (a < start || a >= end) continue;
    Mapping m;
    m.id = id;
    m.memory_start = start;
    m.memory_limit = end;
    m.file_offset = offset;
    m.filename = line.substr(static_cast<size_t>(path_at));
    return m;
  }
  ADD_FAILURE() << "no mapping for " << addr;
  return {};
}

// A one-sample profile with one location per address, all unsymbolized.
Profile raw_profile(const std::vector<const void*>& addrs) {
  Profile p;
  p.sample_types = {{"samples", "count"}};
  Sample s;
  s.values = {1};
  for (const void* addr : addrs) {
    uint64_t mid = 0;
    Mapping m = mapping_of(addr, p.mappings.size() + 1);
    for (const Mapping& have : p.mappings) {
      if (have.memory_start == m.memory_start) mid = have.id;
    }
    if (mid == 0) {
      mid = m.id;
      p.mappings.push_back(m);
    }
    uint64_t lid = p.locations.size() + 1;
    p.locations.push_back({lid, mid, reinterpret_cast<uint64_t>(addr), {}, false});
    s.location_ids.push_back(lid);
  }
  p.samples.push_back(s);
  return p;
}

const Function* function(const Profile& p, uint64_t id) {
  for (const Function& f : p.functions) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const void* code(int (*f)(int)) { return reinterpret_cast<const void*>(f); }

TEST(Symbolize, NamespacedFunctionGetsNameFileAndLine) {
  Profile p = raw_profile({code(&symtest::namespaced_leaf)});
  SymbolizeStats stats;
  ASSERT_TRUE(symbolize(p, {}, &stats).ok());
  ASSERT_EQ(p.locations[0].lines.size(), 1u);
  const Function* f = function(p, p.locations[0].lines[0].function_id);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name, "symtest::namespaced_leaf(int)");
  EXPECT_EQ(f->system_name, "_ZN7symtest15namespaced_leafEi");
  EXPECT_TRUE(f->filename.ends_with("tests/unit/symbolize/testee.cc")) << f->filename;
  EXPECT_EQ(f->start_line, symtest::kNamespacedLeafLine);
  EXPECT_GE(p.locations[0].lines[0].line, symtest::kNamespacedLeafLine);
  EXPECT_TRUE(p.mappings[0].has_functions);
  EXPECT_TRUE(p.mappings[0].has_line_numbers);
  EXPECT_EQ(stats.locations, 1);
  EXPECT_EQ(stats.resolved, 1);
}

// The agent names frames from symbol tables (a line without a line number, has_functions
// false): DWARF replaces those names with its own, files and lines; a location that already
// has line numbers is left as it is.
TEST(Symbolize, SymbolTableNamesAreImprovedLinesAreKept) {
  Profile p = raw_profile({code(&symtest::namespaced_leaf), code(&symtest::namespaced_leaf)});
  p.functions.push_back(
      {1, "_ZN7symtest15namespaced_leafEi", "_ZN7symtest15namespaced_leafEi", "", 0});
  p.functions.push_back({2, "kept", "kept", "", 0});
  p.locations[0].lines = {{1, 0, 0}};
  p.locations[1].lines = {{2, 7, 0}};
  ASSERT_TRUE(symbolize(p, {}).ok());
  ASSERT_EQ(p.locations[0].lines.size(), 1u);
  EXPECT_EQ(function(p, p.locations[0].lines[0].function_id)->name,
            "symtest::namespaced_leaf(int)");
  EXPECT_GE(p.locations[0].lines[0].line, symtest::kNamespacedLeafLine);
  ASSERT_EQ(p.locations[1].lines.size(), 1u);
  EXPECT_EQ(function(p, p.locations[1].lines[0].function_id)->name, "kept");
  EXPECT_EQ(p.locations[1].lines[0].line, 7);
}

// The agent says has_functions when it named every frame of a mapping: names without line
// numbers are still replaced where DWARF is found.
TEST(Symbolize, MappingWithOnlySymbolTableNamesIsImproved) {
  Profile p = raw_profile({code(&symtest::namespaced_leaf)});
  p.mappings[0].has_functions = true;
  p.functions.push_back(
      {1, "_ZN7symtest15namespaced_leafEi", "_ZN7symtest15namespaced_leafEi", "", 0});
  p.locations[0].lines = {{1, 0, 0}};
  ASSERT_TRUE(symbolize(p, {}).ok());
  ASSERT_EQ(p.locations[0].lines.size(), 1u);
  EXPECT_EQ(function(p, p.locations[0].lines[0].function_id)->name,
            "symtest::namespaced_leaf(int)");
  EXPECT_GE(p.locations[0].lines[0].line, symtest::kNamespacedLeafLine);
}

TEST(Symbolize, InlinedFrameComesFirstThenItsCaller) {
  // A return address, as an unwinder gives it; the agent stores return address - 1.
  auto ra = reinterpret_cast<uintptr_t>(symtest::outer_with_inline());
  Profile p = raw_profile({reinterpret_cast<const void*>(ra - 1)});
  ASSERT_TRUE(symbolize(p).ok());
  const auto& lines = p.locations[0].lines;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(function(p, lines[0].function_id)->name, "symtest::inlined_middle()");
  EXPECT_EQ(lines[0].line, symtest::kInlinedCallLine);
  EXPECT_EQ(function(p, lines[1].function_id)->name, "symtest::outer_with_inline()");
  EXPECT_EQ(lines[1].line, symtest::kOuterCallLine);
  EXPECT_TRUE(p.mappings[0].has_inline_frames);
}

TEST(Symbolize, WithoutDwarfTheSymbolTableNamesTheFunction) {
  Profile p = raw_profile({code(&nodwarf::Thing::method), code(&nodwarf_c_function)});
  ASSERT_TRUE(symbolize(p).ok());
  ASSERT_EQ(p.locations[0].lines.size(), 1u);
  ASSERT_EQ(p.locations[1].lines.size(), 1u);
  EXPECT_EQ(function(p, p.locations[0].lines[0].function_id)->name, "nodwarf::Thing::method(int)");
  EXPECT_EQ(function(p, p.locations[1].lines[0].function_id)->name, "nodwarf_c_function");
  EXPECT_EQ(p.locations[0].lines[0].line, 0);
  const Mapping& m = p.mappings[0];
  EXPECT_TRUE(m.filename.find("symbolize_testee_nodwarf") != std::string::npos) << m.filename;
  EXPECT_TRUE(m.has_functions);
  EXPECT_FALSE(m.has_line_numbers);
  EXPECT_FALSE(m.has_inline_frames);
}

TEST(Symbolize, MismatchedBuildIdLeavesTheMappingAlone) {
  Profile p = raw_profile({code(&symtest::namespaced_leaf)});
  p.mappings[0].build_id = "0123456789abcdef0123456789abcdef01234567";
  SymbolizeStats stats;
  ASSERT_TRUE(symbolize(p, {}, &stats).ok());
  EXPECT_TRUE(p.locations[0].lines.empty());
  EXPECT_FALSE(p.mappings[0].has_functions);
  ASSERT_EQ(stats.skipped.size(), 1u);
  EXPECT_NE(stats.skipped[0].find("does not match"), std::string::npos) << stats.skipped[0];
}

TEST(Symbolize, MissingFileAndPseudoMappingsAreSkipped) {
  Profile p = raw_profile({code(&symtest::namespaced_leaf)});
  p.mappings[0].filename = "/nonexistent/leakscope-test-binary";
  Mapping vdso = p.mappings[0];
  vdso.id = 2;
  vdso.filename = "[vdso]";
  p.mappings.push_back(vdso);
  p.locations.push_back({2, 2, p.locations[0].address, {}, false});
  SymbolizeStats stats;
  ASSERT_TRUE(symbolize(p, {}, &stats).ok());
  EXPECT_TRUE(p.locations[0].lines.empty());
  EXPECT_TRUE(p.locations[1].lines.empty());
  ASSERT_EQ(stats.skipped.size(), 1u);
  EXPECT_NE(stats.skipped[0].find("no such file"), std::string::npos) << stats.skipped[0];
}

TEST(Symbolize, MappingThatClaimsSymbolsIsKeptUnlessForced) {
  Profile p = raw_profile({code(&symtest::namespaced_leaf)});
  p.mappings[0].has_functions = true;
  ASSERT_TRUE(symbolize(p).ok());
  EXPECT_TRUE(p.locations[0].lines.empty());
  SymbolizeOptions force;
  force.force = true;
  ASSERT_TRUE(symbolize(p, force).ok());
  EXPECT_EQ(p.locations[0].lines.size(), 1u);
}

TEST(Symbolize, SeparateDebugFileFoundByBuildId) {
  auto exe = ElfModule::open("/proc/self/exe", "");
  ASSERT_TRUE(exe.ok()) << exe.error().message;
  std::string id = (*exe)->build_id();
  if (id.empty()) GTEST_SKIP() << "this test binary was linked without a build ID";
  auto dir = std::filesystem::temp_directory_path() /
             ("leakscope-symbolize-" + std::to_string(::getpid()));
  auto debug = dir / ".build-id" / id.substr(0, 2) / (id.substr(2) + ".debug");
  std::filesystem::create_directories(debug.parent_path());
  // The path, not /proc/self/exe: in objcopy's process that names objcopy.
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string cmd = "objcopy --only-keep-debug '" + self + "' '" + debug.string() + "'";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "objcopy is not available";

  Profile p = raw_profile({code(&symtest::namespaced_leaf)});
  p.mappings[0].filename = "/nonexistent/moved-away-binary";
  p.mappings[0].build_id = id;
  SymbolizeOptions options;
  options.debug_dirs = {dir.string()};
  SymbolizeStats stats;
  ASSERT_TRUE(symbolize(p, options, &stats).ok());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(p.locations[0].lines.size(), 1u) << (stats.skipped.empty() ? "" : stats.skipped[0]);
  EXPECT_EQ(function(p, p.locations[0].lines[0].function_id)->name,
            "symtest::namespaced_leaf(int)");
}

TEST(Symbolize, ExistingFunctionsAreReused) {
  Profile p = raw_profile({code(&symtest::namespaced_leaf), code(&symtest::namespaced_leaf)});
  ASSERT_TRUE(symbolize(p).ok());
  ASSERT_EQ(p.functions.size(), 1u);
  EXPECT_EQ(p.functions[0].id, 1u);
  EXPECT_EQ(p.locations[0].lines[0].function_id, p.locations[1].lines[0].function_id);
}

}  // namespace
}  // namespace leakscope
