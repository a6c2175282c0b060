// The skeleton the descriptor and thread trackers share for serving: a tracker scans its table
// against the kernel's list (/proc/self/fd, /proc/self/task), turns each live object into a
// CountItem, and this file makes of the items the count profile (type/count, one per object,
// summed over equal stack and labels), Go's ?debug=1 count text, the page's dispatch on ?debug,
// and the table's figures for /metrics. What differs per tracker (what an object is, its
// labels, the ?debug=2 page) stays in track_fds_serve.cc and track_threads_serve.cc.
// Server thread only, under a ReentryGuard (everything here allocates).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/agent_api.h"

namespace leakscope::agent {

// Where a live object's creation stack comes from.
enum class Origin {
  kTracked,   // the table has it: its stack (an overflow frame if the stack table was full)
  kUnknown,   // made before the agent, by a raw syscall, or by an unhooked path
  kOverflow,  // the tracker's table had no room for it
};

struct CountItem {
  Origin origin = Origin::kUnknown;
  uint32_t stack_id = 0;       // with kTracked; 0: the stack table was full
  std::vector<Label> labels;   // the profile's sample labels
  const char* note = nullptr;  // ?debug=1: a "# note" line under the stack, items split by it
};

// "[unknown origin]" or "[leakscope: overflow]": the pseudo-frame of an item without a stack.
LEAKSCOPE_HIDDEN const char* origin_frame(Origin origin);

// The gzip'd pprof count profile of `items`, sample type `type`/count, with `comment`.
LEAKSCOPE_HIDDEN std::string count_profile_bytes(const char* type,
                                                 const std::vector<CountItem>& items,
                                                 std::string comment);

// Go's count-profile text (?debug=1): "TYPE profile: total N", then one "N @ pcs" block per
// (origin, stack, note), most first, with the frames symbolized (track_fds_text.cc).
LEAKSCOPE_HIDDEN std::string count_text(const char* type, const std::vector<CountItem>& items);

// A tracker's page: ?debug=1 or 2 answer text/plain with text(debug), anything else the
// profile as an attachment named `name`.
template <typename Text, typename Profile>
void serve_tracker_page(const HttpRequest& req, HttpResponse& res, const char* name, Text text,
                        Profile profile) {
  std::string debug = req.param("debug", "0");
  if (debug == "1" || debug == "2") {
    res.content_type = "text/plain; charset=utf-8";
    res.body = text(debug == "1" ? 1 : 2);
    return;
  }
  res.content_type = "application/octet-stream";
  res.headers.push_back(
      {"Content-Disposition", std::string("attachment; filename=\"") + name + "\""});
  res.body = profile();
}

// The figures every tracker's table gives /metrics (`live` and `entries` are the tracker's).
template <typename Table>
void table_figures(const Table& table, int64_t table_bytes, TrackerFigures& f) {
  f.on = true;
  f.capacity = table.capacity();
  f.overflow = table.overflow();
  f.table_bytes = table_bytes;
}

}  // namespace leakscope::agent
