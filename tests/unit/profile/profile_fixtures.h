// Small profiles for the profile tests and the fuzz corpus generator.
#pragma once

#include "core/profile/profile.h"

namespace leakscope::fixtures {

// A heap profile shaped like Go's and the agent's: four sample types, two mappings, a location
// with an inlined frame, an unsymbolized location, numeric labels. Stacks:
//   sample 0: leak_here (inlined into handle) <- main            values {1, 4096, 1, 4096}
//   sample 1: 0x7f0000001234 (libc, unsymbolized) <- main         values {2, 64, 0, 0}
//   sample 2: cache_put <- main                                   values {3, 300, 3, 300}
inline Profile heap_profile() {
  Profile p;
  p.sample_types = {{"alloc_objects", "count"},
                    {"alloc_space", "bytes"},
                    {"inuse_objects", "count"},
                    {"inuse_space", "bytes"}};
  p.period_type = {"space", "bytes"};
  p.period = 524288;
  p.time_nanos = 1700000000000000000;
  p.comments = {"made by the tests"};
  p.drop_frames = "malloc|operator new";
  p.mappings = {{1, 0x400000, 0x500000, 0, "/usr/bin/service", "abc123", true, true, true, true},
                {2, 0x7f0000000000, 0x7f0000200000, 0x1000, "/usr/lib/x86_64-linux-gnu/libc.so.6",
                 "def456", false, false, false, false}};
  p.functions = {{1, "leak_here(int)", "_Z9leak_herei", "src/leak.cc", 10},
                 {2, "handle", "_Z6handlev", "src/handle.cc", 20},
                 {3, "main", "main", "src/main.cc", 1},
                 {4, "Cache::put", "_ZN5Cache3putEv", "src/cache.cc", 30}};
  p.locations = {{1, 1, 0x401000, {{1, 12, 3}, {2, 25, 0}}, false},
                 {2, 1, 0x402000, {{3, 5, 0}}, false},
                 {3, 2, 0x7f0000001234, {}, false},
                 {4, 1, 0x403000, {{4, 33, 0}}, false}};
  p.samples = {{{1, 2}, {1, 4096, 1, 4096}, {{"bytes", "", 4096, ""}}},
               {{3, 2}, {2, 64, 0, 0}, {{"bytes", "", 32, ""}}},
               {{4, 2}, {3, 300, 3, 300}, {{"bytes", "", 100, ""}, {"cache", "users", 0, ""}}}};
  return p;
}

}  // namespace leakscope::fixtures
