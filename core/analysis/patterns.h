// The pattern catalogue: what a finding most likely is, and what to change. A finding names a site
// and its growth; for half the leaks people meet that is not yet an answer (goroutines growing in
// net/http.(*persistConn).readLoop mean "a response body nobody closed", which no one wrote). The
// catalogue recognises the patterns from what a run holds, and says which evidence matched:
//   - the site's stacks, and the stacks of the other sites of the same function (an allocation
//     made by std::vector::_M_realloc_insert or runtime.growslice is a sibling site on the line of
//     the push_back, beside the objects it holds);
//   - goroutine stacks, which are where each goroutine waits now (chan send, select, time.Sleep,
//     a client's roundTrip);
//   - the labels of the agent's fds and threads profiles: a descriptor's kind, path or peer, a
//     thread's state (running, exited but never joined);
//   - the other findings of the run: a heap site in the function whose threads never end holds
//     what those threads hold; descriptors counted from /proc (Go) have no stacks, but grow with
//     the goroutines of net/http's connections.
// Leak patterns are only given to findings judged a leak, and the not-a-leak patterns (allocator
// retention, a cache that filled, a GC's wave) only to the others, so a fixed variant can never
// be told it leaks. A finding no matcher recognises gets id "none", said as such.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/analysis/analysis.h"
#include "core/analysis/finding.h"

namespace leakscope::analysis {

// One entry of the catalogue: its id (report.json's pattern.id), a title, and whether it is a
// leak pattern (given to leak findings only) or a not-a-leak one.
struct PatternEntry {
  const char* id;
  const char* title;
  bool leak;
};

// Every pattern the catalogue knows, in the order they are tried; "none" is not in it.
std::span<const PatternEntry> pattern_catalogue();

// Sets Finding::pattern on every finding: the first pattern whose evidence is there, or id
// "none" with what was looked for. `run` is the run the findings were judged from.
void match_patterns(const RunSeries& run, std::vector<Finding>& findings);

// What to do about memory the allocator (Go's runtime, glibc, jemalloc) keeps after the live heap
// gave it back.
std::string allocator_retention_fix(bool go);

}  // namespace leakscope::analysis
