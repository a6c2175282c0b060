// --gc: how often a snapshot of a Go service forces a garbage collection (cli/detect_gc.h).
#include <gtest/gtest.h>

#include "cli/detect_gc.h"

namespace leakscope::cli {
namespace {

TEST(Gc, Parses) {
  EXPECT_EQ(parse_gc("never"), 0);
  EXPECT_EQ(parse_gc("each"), 1);
  EXPECT_EQ(parse_gc("every 10"), 10);
  EXPECT_EQ(parse_gc("every=3"), 3);
  EXPECT_EQ(parse_gc("every5"), 5);
  EXPECT_EQ(parse_gc("7"), 7);
  for (const char* bad : {"", "every", "every 0", "every -1", "sometimes", "every 2x", "0"})
    EXPECT_FALSE(parse_gc(bad)) << bad;
  EXPECT_EQ(gc_words(0), "never");
  EXPECT_EQ(gc_words(1), "each");
  EXPECT_EQ(gc_words(10), "every=10");
}

TEST(Gc, ForcesOnTheSnapshotsAskedFor) {
  const std::string heap = "/debug/pprof/heap?gc=1";
  EXPECT_EQ(gc_path(heap, 1, 0), heap);
  EXPECT_EQ(gc_path(heap, 1, 7), heap);
  EXPECT_EQ(gc_path(heap, 0, 0), "/debug/pprof/heap");
  EXPECT_EQ(gc_path(heap, 10, 0), heap);  // the first snapshot is current
  EXPECT_EQ(gc_path(heap, 10, 3), "/debug/pprof/heap");
  EXPECT_EQ(gc_path(heap, 10, 20), heap);
  EXPECT_EQ(gc_path("/debug/pprof/goroutine", 0, 0), "/debug/pprof/goroutine");
}

TEST(Gc, NoteSaysHowOften) {
  EXPECT_EQ(gc_note(10, 1),
            "Go heap: a GC forced (?gc=1) at every 10th snapshot, one every 10 s (--gc every=10)");
  EXPECT_NE(gc_note(0, 1).find("no GC forced (--gc never)"), std::string::npos);
}

}  // namespace
}  // namespace leakscope::cli
