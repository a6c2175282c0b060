// Suppression files and LeakSanitizer-style pattern matching.
#include "core/analysis/suppress.h"

#include <gtest/gtest.h>

namespace leakscope::analysis {
namespace {

TEST(Suppress, ParsesCommentsAndBlankLines) {
  auto s = parse_suppressions(
      "# accepted caches\n\nSessionCache::put  # grows by design\n"
      "leak:^init_pool$\n");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->patterns.size(), 2u);
  EXPECT_EQ(s->patterns[0], "SessionCache::put");
  EXPECT_EQ(s->patterns[1], "^init_pool$");
}

TEST(Suppress, WrapperLinesNameAllocatorWrappers) {
  auto s = parse_suppressions("wrapper: ^zmalloc$  # redis\nwrapper:my_alloc\nfill_cache\n");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->wrappers, (std::vector<std::string>{"^zmalloc$", "my_alloc"}));
  EXPECT_EQ(s->patterns, (std::vector<std::string>{"fill_cache"}));
  auto bad = parse_suppressions("ok\nwrapper: (\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line 2"), std::string::npos) << bad.error().message;
}

TEST(Suppress, RejectsMatchEverything) {
  auto s = parse_suppressions("ok\n*\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("line 2"), std::string::npos);
}

TEST(Suppress, Matching) {
  EXPECT_TRUE(pattern_matches("Cache", "SessionCache::put(int)"));
  EXPECT_TRUE(pattern_matches("Session*put", "SessionCache::put(int)"));
  EXPECT_FALSE(pattern_matches("^Cache", "SessionCache::put(int)"));
  EXPECT_TRUE(pattern_matches("^init_pool$", "init_pool"));
  EXPECT_FALSE(pattern_matches("^init_pool$", "init_pool2"));
  EXPECT_TRUE(pattern_matches("put(int)$", "SessionCache::put(int)"));
}

TEST(Suppress, MarksFindingsByAnyStackFrame) {
  std::vector<Finding> f(2);
  f[0].stack.push_back(Frame{"malloc", "", 0, 0, ""});
  f[0].stack.push_back(Frame{"fill_cache", "", 0, 0, ""});
  f[1].site = Frame{"leak_things", "", 0, 0, ""};
  Suppressions s{{"fill_cache"}, {}};
  EXPECT_EQ(apply_suppressions(s, f), 1u);
  EXPECT_TRUE(f[0].suppressed);
  EXPECT_FALSE(f[1].suppressed);
}

TEST(Suppress, MissingFileIsAnError) {
  auto s = read_suppressions("/nonexistent/leakscope.supp");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace leakscope::analysis
