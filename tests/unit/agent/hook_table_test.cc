// The agent's one way to find the function a hook stands in front of (agent/hooks/hook_table.h):
// a group resolves every entry with dlsym(RTLD_NEXT); eager all-or-nothing publishes nothing
// while a required entry is missing (the alloc group keeps answering from its bootstrap buffer),
// lazy publishes what it found on first use. And the one rule for on/off switches (config.cc).
#include "agent/hooks/hook_table.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"

// Declared, never defined anywhere: dlsym finds nothing.
extern "C" int leakscope_test_absent(int) __attribute__((weak));

#define TEST_PRESENT(X) X(strlen, true) X(strerror, false)
#define TEST_OPTIONAL_MISSING(X) X(strlen, true) X(leakscope_test_absent, false)
#define TEST_REQUIRED_MISSING(X) X(strlen, true) X(leakscope_test_absent, true)

namespace leakscope::agent {

std::atomic<bool> g_sampling{false};
std::atomic<bool> g_ready{false};

namespace {

LEAKSCOPE_HOOK_GROUP(Present, TEST_PRESENT);
LEAKSCOPE_HOOK_GROUP(OptionalMissing, TEST_OPTIONAL_MISSING);
LEAKSCOPE_HOOK_GROUP(RequiredMissing, TEST_REQUIRED_MISSING);

TEST(HookTable, ResolvesEveryEntryToTheNextDefinition) {
  Present group;
  EXPECT_TRUE(resolve_hook_group(group, "test", /*all_or_nothing=*/true));
  ASSERT_NE(group.strlen, nullptr);
  EXPECT_EQ(group.strlen("four"), 4u);
  EXPECT_NE(group.strerror, nullptr);
  static_assert(Present::kCount == 2);
}

TEST(HookTable, AMissingOptionalEntryIsNullAndNotAnError) {
  OptionalMissing group;
  EXPECT_TRUE(resolve_hook_group(group, "test", true));
  EXPECT_NE(group.strlen, nullptr);
  EXPECT_EQ(group.leakscope_test_absent, nullptr);
}

TEST(HookTable, AllOrNothingPublishesNothingWhileARequiredEntryIsMissing) {
  RequiredMissing group;
  EXPECT_FALSE(resolve_hook_group(group, "test", /*all_or_nothing=*/true));
  EXPECT_EQ(group.strlen, nullptr);
}

TEST(HookTable, LazyGroupPublishesWhatItFoundOnFirstUse) {
  static constinit LazyHookGroup<RequiredMissing> lazy("test");
  const RequiredMissing& group = lazy.get();
  EXPECT_NE(group.strlen, nullptr);
  EXPECT_EQ(group.leakscope_test_absent, nullptr);
  EXPECT_EQ(&lazy.get(), &group);
}

TEST(HookTable, NextSymbolFallsBackToTheUnversionedDefinition) {
  EXPECT_NE(next_symbol("strlen"), nullptr);
  EXPECT_EQ(next_symbol("strlen", "NO_SUCH_VERSION_1.0"), next_symbol("strlen"));
  EXPECT_EQ(next_symbol("leakscope_test_absent"), nullptr);
}

TEST(EnvSwitch, OneRuleForEveryOnOffVariable) {
  const char* kName = "LEAKSCOPE_TEST_SWITCH";
  unsetenv(kName);
  EXPECT_TRUE(env_switch(kName, true));
  EXPECT_FALSE(env_switch(kName, false));
  for (const char* on : {"1", "true", "yes", "on"}) {
    setenv(kName, on, 1);
    EXPECT_TRUE(env_switch(kName, false)) << on;
  }
  for (const char* off : {"0", "false", "no", "off"}) {
    setenv(kName, off, 1);
    EXPECT_FALSE(env_switch(kName, true)) << off;
  }
  setenv(kName, "maybe", 1);
  EXPECT_TRUE(env_switch(kName, true));
  EXPECT_FALSE(env_switch(kName, false));
  unsetenv(kName);
}

}  // namespace
}  // namespace leakscope::agent
