// How often a snapshot of a Go service forces a garbage collection (`--gc`). Go's heap profile
// is as of the last completed GC cycle, so `/debug/pprof/heap?gc=1` (runtime.GC, then the
// profile) keeps a snapshot current. But a forced GC is a full collection: its CPU cost grows
// with the live heap, and once a second it is a load of its own on a big production service.
//   never     no forced GC: each snapshot is as of the service's own last cycle (a busy service
//             collects often; an idle one at least every 2 minutes)
//   each      every snapshot (the default of `run`, a test bench)
//   every=N   every Nth snapshot, the first included (the default of `watch`: every=10); also
//             spelt "every N" (one quoted argument) or plain N
#pragma once

#include <optional>
#include <string>

namespace leakscope::cli {

// "never" -> 0, "each" -> 1, "every=N" / "every N" / "N" -> N (N >= 1); nullopt when malformed.
std::optional<int> parse_gc(const std::string& text);
// "never", "each", "every=10": the setting as --gc takes it, for notes.
std::string gc_words(int every);
// The path to fetch for snapshot `index` (0-based): `path` as is when it forces no GC or this
// snapshot should force one; else without its "?gc=1".
std::string gc_path(const std::string& path, int every, size_t index);

// The report's note on the setting: "Go heap: a GC forced (?gc=1) at every 10th snapshot, one
// every 10 s (--gc every=10)".
std::string gc_note(int every, double interval_s);

// The help text of --gc, shared by run and watch.
inline constexpr const char* kGcHelp =
    "Go (net/http/pprof) targets: how often a snapshot forces a full garbage collection "
    "(heap?gc=1) so the heap profile is current: never, each, or every=N snapshots (run: each; "
    "watch: every=10, a GC every 10 s at the default interval; for hour-scale watches on big "
    "heaps e.g. --interval 30 --gc every=2, or never when the service collects often anyway)";

}  // namespace leakscope::cli
