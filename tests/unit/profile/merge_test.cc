// merge, compact, and the diff built from them (scale(base, -1) + merge).
#include <gtest/gtest.h>

#include <map>

#include "core/profile/profile_ops.h"
#include "tests/unit/profile/profile_fixtures.h"

namespace leakscope {
namespace {

using fixtures::heap_profile;

// inuse_space by leaf function name, the way `top` reads a profile.
std::map<std::string, int64_t> by_leaf(const Profile& p) {
  std::map<std::string, int64_t> out;
  for (const Sample& s : p.samples) out[frames_of(p, s).front().function] += s.values[3];
  return out;
}

void expect_ids_one_to_n(const Profile& p) {
  for (size_t i = 0; i < p.mappings.size(); ++i) EXPECT_EQ(p.mappings[i].id, i + 1);
  for (size_t i = 0; i < p.locations.size(); ++i) EXPECT_EQ(p.locations[i].id, i + 1);
  for (size_t i = 0; i < p.functions.size(); ++i) EXPECT_EQ(p.functions[i].id, i + 1);
}

TEST(Merge, SameProfileTwiceDoublesValues) {
  Profile a = heap_profile();
  Result<Profile> m = merge({&a, &a});
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE(validate(*m).ok());
  EXPECT_EQ(m->samples.size(), 3u);
  EXPECT_EQ(m->locations.size(), 4u);
  EXPECT_EQ(m->functions.size(), 4u);
  EXPECT_EQ(m->mappings.size(), 2u);
  EXPECT_EQ(m->samples[0].values, (std::vector<int64_t>{2, 8192, 2, 8192}));
  EXPECT_EQ(m->comments, a.comments);
  EXPECT_EQ(m->period, a.period);
  expect_ids_one_to_n(*m);
}

TEST(Merge, LabelsKeepSamplesApart) {
  Profile a = heap_profile(), b = heap_profile();
  b.samples[0].labels[0].num = 8192;  // same stack, other allocation size
  Result<Profile> m = merge({&a, &b});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->samples.size(), 4u);
  // Label order does not matter.
  Profile c = heap_profile();
  std::swap(c.samples[2].labels[0], c.samples[2].labels[1]);
  m = merge({&a, &c});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->samples.size(), 3u);
}

TEST(Merge, UnifiesMappingsAcrossLoadAddresses) {
  Profile a = heap_profile(), b = heap_profile();
  constexpr uint64_t kShift = 0x10000;  // the second run loaded libc elsewhere (ASLR)
  b.mappings[1].memory_start += kShift;
  b.mappings[1].memory_limit += kShift;
  b.locations[2].address += kShift;
  Result<Profile> m = merge({&a, &b});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->mappings.size(), 2u);
  EXPECT_EQ(m->locations.size(), 4u);
  EXPECT_EQ(m->samples[1].values, (std::vector<int64_t>{4, 128, 0, 0}));
  EXPECT_EQ(m->locations[2].address, 0x7f0000001234u);  // rebased onto the first profile's
}

TEST(Merge, UnifiesFunctionsByIdentityNotId) {
  Profile a = heap_profile(), b = heap_profile();
  std::reverse(b.functions.begin(), b.functions.end());
  for (size_t i = 0; i < b.functions.size(); ++i) b.functions[i].id = 10 + i;
  std::map<std::string, uint64_t> id_of;
  for (const Function& f : b.functions) id_of[f.name] = f.id;
  for (Location& l : b.locations) {
    for (Line& line : l.lines) line.function_id = id_of[a.functions[line.function_id - 1].name];
  }
  ASSERT_TRUE(validate(b).ok());
  Result<Profile> m = merge({&a, &b});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->functions.size(), 4u);
  EXPECT_EQ(m->samples.size(), 3u);
}

TEST(Merge, RefusesDifferentSampleTypes) {
  Profile a = heap_profile(), b = heap_profile();
  b.sample_types[3].unit = "kilobytes";
  EXPECT_EQ(merge({&a, &b}).error().message, "profile 1: incompatible sample types");
  b = heap_profile();
  b.period_type.type = "cpu";
  EXPECT_EQ(merge({&a, &b}).error().message, "profile 1: incompatible period types");
  EXPECT_FALSE(merge({}).ok());
}

TEST(Merge, CombinesHeadersLikePprof) {
  Profile a = heap_profile(), b = heap_profile();
  a.duration_nanos = 10;
  b.duration_nanos = 5;
  b.time_nanos = a.time_nanos - 1;
  b.period = a.period * 2;
  b.comments.push_back("second");
  b.default_sample_type = "alloc_space";
  Result<Profile> m = merge({&a, &b});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->duration_nanos, 15);
  EXPECT_EQ(m->time_nanos, b.time_nanos);
  EXPECT_EQ(m->period, b.period);
  EXPECT_EQ(m->comments, (std::vector<std::string>{"made by the tests", "second"}));
  EXPECT_EQ(m->default_sample_type, "alloc_space");
  EXPECT_EQ(m->drop_frames, a.drop_frames);
}

TEST(Diff, ScaleMinusOneThenMergeLeavesTheGrowth) {
  Profile base = heap_profile();
  Profile now = heap_profile();
  now.samples[2].values = {13, 1300, 13, 1300};  // the cache grew by 1000 bytes
  now.functions.push_back({5, "new_site", "new_site", "src/new.cc", 1});
  now.locations.push_back({5, 1, 0x404000, {{5, 2, 0}}, false});
  now.samples.push_back({{5, 2}, {1, 50, 1, 50}, {}});
  scale(base, -1);
  Result<Profile> diff = merge({&base, &now});
  ASSERT_TRUE(diff.ok()) << diff.error().message;
  ASSERT_TRUE(validate(*diff).ok());
  // Unchanged stacks cancel out and vanish, with what only they referenced.
  EXPECT_EQ(by_leaf(*diff),
            (std::map<std::string, int64_t>{{"Cache::put", 1000}, {"new_site", 50}}));
  EXPECT_EQ(diff->samples.size(), 2u);
  EXPECT_EQ(diff->mappings.size(), 1u);
  EXPECT_EQ(diff->functions.size(), 3u);  // Cache::put, main, new_site
  expect_ids_one_to_n(*diff);
}

TEST(Compact, DropsZeroSamplesAndUnreferencedEntitiesAndRenumbers) {
  Profile p = heap_profile();
  p.samples[1].values = {0, 0, 0, 0};  // the only user of libc and location 3
  p.functions.push_back({9, "unused", "", "", 0});
  for (Function& f : p.functions) f.id *= 10;
  for (Location& l : p.locations) {
    for (Line& line : l.lines) line.function_id *= 10;
  }
  compact(p);
  ASSERT_TRUE(validate(p).ok()) << validate(p).error().message;
  EXPECT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.mappings.size(), 1u);
  EXPECT_EQ(p.locations.size(), 3u);
  EXPECT_EQ(p.functions.size(), 4u);
  expect_ids_one_to_n(p);
  EXPECT_EQ(by_leaf(p),
            (std::map<std::string, int64_t>{{"leak_here(int)", 4096}, {"Cache::put", 300}}));
  EXPECT_EQ(p.samples[1].location_ids, (std::vector<uint64_t>{3, 2}));
}

TEST(Compact, KeepsAWellNumberedProfileAsIs) {
  Profile p = heap_profile();
  compact(p);
  EXPECT_EQ(p, heap_profile());
}

}  // namespace
}  // namespace leakscope
