// The checks of detect_checks.h that need a debug server or a session: is what answers at a
// --pprof URL pprof, served by the process leakscope started; and did the agent see any heap.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "cli/detect_scrape.h"
#include "cli/detect_session.h"
#include "cli/detect_url.h"
#include "core/util/result.h"

namespace leakscope::cli {

// What serves at `scraper`'s URL, as `watch` and `fleet` tell it: the agent serves
// /debug/pprof/fds, Go's net/http/pprof does not. An error when neither answers.
Result<Source> probe_source(Scraper& scraper);

// Polled while `run --pprof URL` waits for its target's debug server to answer.
class PprofProbe {
 public:
  // False: nothing there yet, poll again. True: URL serves pprof (its heap profile decodes) and
  // its port is held by `target` or a child of it. An error when it never will be: the port is
  // another process's (for a second in a row), /debug/pprof/ answers 404, or the heap profile
  // is not a pprof profile.
  Result<bool> check(const Url& url, pid_t target, const std::string& program);

 private:
  std::optional<std::chrono::steady_clock::time_point> foreign_since_;
};

// What the agent saw of the heap over a session of at least three heap snapshots: every one
// empty (the target allocates nothing through malloc: a Go program, an allocator of its own, or
// too little for one sample), the same total in every one (nothing the run did touched it), or a
// heap that moved (also: too few snapshots to say).
enum class HeapSeen { kMoving, kConstant, kEmpty };
HeapSeen heap_seen(const Session& session);

// When the debug server stopped answering for most of the session (more than half of the
// snapshots have no heap profile: the target exec'd another program, or its server hung), what
// that hides, with the first scrape error; empty otherwise, and for a /proc-only session.
std::string missing_heap(const Session& session);

}  // namespace leakscope::cli
