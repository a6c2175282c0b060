// validate, select_sample_type, scale and frames_of.
#include <gtest/gtest.h>

#include <limits>

#include "core/profile/profile_ops.h"
#include "tests/unit/profile/profile_fixtures.h"

namespace leakscope {
namespace {

using fixtures::heap_profile;

std::string invalid(const Profile& p) {
  Result<void> r = validate(p);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error().message;
}

TEST(Validate, AcceptsAWellFormedProfile) { EXPECT_TRUE(validate(heap_profile()).ok()); }

TEST(Validate, NamesEachBrokenInvariant) {
  Profile p = heap_profile();
  p.samples[1].values.pop_back();
  EXPECT_EQ(invalid(p), "sample #1: 3 values vs. 4 sample types");
  p = heap_profile();
  p.sample_types.clear();
  EXPECT_EQ(invalid(p), "missing sample type information");
  p = heap_profile();
  p.mappings[1].id = 0;
  EXPECT_EQ(invalid(p), "found a mapping with reserved id 0");
  p = heap_profile();
  p.locations[3].id = 2;
  EXPECT_EQ(invalid(p), "multiple locations with id 2");
  p = heap_profile();
  p.locations[2].mapping_id = 5;
  EXPECT_EQ(invalid(p), "location 3: mapping 5 does not exist");
  p = heap_profile();
  p.locations[0].lines[1].function_id = 0;
  EXPECT_EQ(invalid(p), "location 1: function 0 does not exist");
  p = heap_profile();
  p.samples[0].location_ids[0] = 0;
  EXPECT_EQ(invalid(p), "sample #0: location 0 does not exist");
}

TEST(Validate, SparseIdsAreFine) {
  Profile p = heap_profile();
  for (Location& l : p.locations) l.id = l.address;  // profile.proto allows addresses as ids
  for (Sample& s : p.samples) {
    for (uint64_t& id : s.location_ids) id = heap_profile().locations[id - 1].address;
  }
  EXPECT_TRUE(validate(p).ok()) << validate(p).error().message;
}

TEST(SelectSampleType, FollowsPprof) {
  Profile p = heap_profile();
  EXPECT_EQ(select_sample_type(p).value(), 3u);  // unset default: the last
  p.default_sample_type = "alloc_space";
  EXPECT_EQ(select_sample_type(p).value(), 1u);
  p.default_sample_type = "no_such_type";
  EXPECT_EQ(select_sample_type(p).value(), 3u);
  EXPECT_EQ(select_sample_type(p, "inuse_objects").value(), 2u);
  EXPECT_EQ(select_sample_type(p, "0").value(), 0u);
  EXPECT_EQ(select_sample_type(p, "4").error().message,
            "sample index 4 is outside the range [0..3]");
  EXPECT_EQ(select_sample_type(p, "cpu").error().message,
            "sample type \"cpu\" must be one of: alloc_objects, alloc_space, inuse_objects, "
            "inuse_space");
  Profile legacy;
  legacy.sample_types = {{"objects", "count"}, {"space", "bytes"}};
  EXPECT_EQ(select_sample_type(legacy, "inuse_space").value(), 1u);
  EXPECT_FALSE(select_sample_type(Profile{}).ok());
}

TEST(Scale, RoundsToNearestAndSaturates) {
  Profile p = heap_profile();
  scale(p, 0.5);
  EXPECT_EQ(p.samples[2].values, (std::vector<int64_t>{2, 150, 2, 150}));  // 1.5 -> 2
  scale(p, -1);
  EXPECT_EQ(p.samples[2].values, (std::vector<int64_t>{-2, -150, -2, -150}));
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  p.samples[0].values = {kMax, kMin, kMax - 1, 3};
  scale(p, -1);
  EXPECT_EQ(p.samples[0].values, (std::vector<int64_t>{-kMax, kMax, -(kMax - 1), -3}));
  p.samples[0].values = {kMax, kMin, 1, -1};
  scale(p, 1e30);
  EXPECT_EQ(p.samples[0].values, (std::vector<int64_t>{kMax, kMin, kMax, kMin}));
}

TEST(FramesOf, ExpandsInlinesLeafFirst) {
  Profile p = heap_profile();
  std::vector<Frame> f = frames_of(p, p.samples[0]);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].function, "leak_here(int)");
  EXPECT_EQ(f[0].file, "src/leak.cc");
  EXPECT_EQ(f[0].line, 12);
  EXPECT_EQ(f[0].mapping, "service");
  EXPECT_EQ(f[0].address, 0x401000u);
  EXPECT_EQ(f[1].function, "handle");  // the caller leak_here was inlined into
  EXPECT_EQ(f[1].line, 25);
  EXPECT_EQ(f[1].address, 0x401000u);
  EXPECT_EQ(f[2].function, "main");
}

// An unsymbolized frame is named by its module and its offset in the file (address -
// memory_start + file_offset), what addr2line -e takes and the same wherever ASLR loaded it.
TEST(FramesOf, UnsymbolizedLocationsShowModuleAndFileOffset) {
  Profile p = heap_profile();
  std::vector<Frame> f = frames_of(p, p.samples[1]);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].function, "libc.so.6+0x2234");  // 0x7f0000001234 - 0x7f0000000000 + 0x1000
  EXPECT_EQ(f[0].file, "");
  EXPECT_EQ(f[0].mapping, "libc.so.6");
  EXPECT_EQ(f[0].address, 0x7f0000001234u);
  EXPECT_TRUE(is_unsymbolized(f[0]));
  EXPECT_EQ(f[1].function, "main");
  EXPECT_FALSE(is_unsymbolized(f[1]));

  // Loaded elsewhere (another run): the same name.
  for (Mapping& m : p.mappings)
    if (m.filename.ends_with("libc.so.6")) m.memory_start += 0x10000, m.memory_limit += 0x10000;
  for (Location& l : p.locations)
    if (l.address == 0x7f0000001234u) l.address += 0x10000;
  EXPECT_EQ(frames_of(p, p.samples[1])[0].function, "libc.so.6+0x2234");
}

TEST(FramesOf, LocationsWithoutAFileKeepTheirAddress) {
  Profile p = heap_profile();
  for (Location& l : p.locations)
    if (l.address == 0x7f0000001234u) l.mapping_id = 0;
  std::vector<Frame> f = frames_of(p, p.samples[1]);
  EXPECT_EQ(f[0].function, "0x7f0000001234");
  EXPECT_TRUE(is_unsymbolized(f[0]));
  for (Mapping& m : p.mappings)
    if (m.filename.ends_with("libc.so.6")) m.filename = "[vdso]";
  for (Location& l : p.locations)
    if (l.address == 0x7f0000001234u) l.mapping_id = 2;
  EXPECT_EQ(frames_of(p, p.samples[1])[0].function, "0x7f0000001234");
}

TEST(FramesOf, UnsymbolizedNames) {
  EXPECT_TRUE(is_unsymbolized_name("0x7f0000001234"));
  EXPECT_TRUE(is_unsymbolized_name("service+0x1a2b"));
  EXPECT_FALSE(is_unsymbolized_name("main"));
  EXPECT_FALSE(is_unsymbolized_name("0xdeadbeefz"));
  EXPECT_FALSE(is_unsymbolized_name("service+0x"));
  // A symbolized name with an offset is not its mapping's address name.
  EXPECT_FALSE(is_unsymbolized(Frame{"malloc+0x12", "", 0, 0x7f00, "libc.so.6"}));
  EXPECT_TRUE(is_unsymbolized(Frame{"libc.so.6+0x12", "", 0, 0x7f00, "/usr/lib/libc.so.6"}));
}

TEST(FramesOf, IndexAndScanAgreeOnSparseIds) {
  Profile p = heap_profile();
  for (Function& fn : p.functions) fn.id += 1000;
  for (Location& l : p.locations) {
    for (Line& line : l.lines) line.function_id += 1000;
  }
  p.functions[0].name.clear();               // falls back to the system name
  for (int order = 0; order < 2; ++order) {  // ids increasing, then in no order
    if (order == 1) std::swap(p.functions[0], p.functions[2]);
    ProfileIndex index(p);
    for (const Sample& s : p.samples) {
      std::vector<Frame> a = frames_of(p, s), b = frames_of(index, s);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].function, b[i].function);
        EXPECT_EQ(a[i].line, b[i].line);
      }
    }
    EXPECT_EQ(frames_of(index, p.samples[0])[0].function, "_Z9leak_herei");
    EXPECT_EQ(frames_of(p, p.samples[2])[0].function, "Cache::put");
  }
}

}  // namespace
}  // namespace leakscope

namespace leakscope {
namespace {

struct Item {
  uint64_t id;
};

TEST(IdIndex, DenseAndSparseIdsResolveAlike) {
  for (uint64_t stride : {1ull, 1000003ull}) {  // 1..N (a flat table), then addresses (a map)
    std::vector<Item> items;
    for (uint64_t i = 1; i <= 100; ++i) items.push_back({i * stride});
    IdIndex index;
    uint64_t bad = 0;
    ASSERT_TRUE(index.build(items, bad));
    for (size_t i = 0; i < items.size(); ++i) EXPECT_EQ(index.find(items[i].id), int64_t(i));
    EXPECT_EQ(index.find(0), IdIndex::kMissing);
    EXPECT_EQ(index.find(101 * stride), IdIndex::kMissing);
    EXPECT_EQ(index.find(~0ull), IdIndex::kMissing);
  }
}

TEST(IdIndex, ReportsZeroAndDuplicatesAndKeepsTheFirst) {
  std::vector<Item> items = {{1}, {2}, {2}, {0}};
  IdIndex index;
  uint64_t bad = 99;
  EXPECT_FALSE(index.build(items, bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_EQ(index.find(2), 1);
  EXPECT_EQ(index.find(0), IdIndex::kMissing);
}

}  // namespace
}  // namespace leakscope
