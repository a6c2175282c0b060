// Progress for a log rather than a terminal (CI, `leakscope run ... 2>run.log`): where stderr is
// not a terminal, the one-line display that redraws itself in place would be noise, so instead a
// plain line every few seconds says the phase, the time left in it, the process figures and the
// site whose live heap grew most since the first snapshot (symbolized here, since the agent
// serves raw addresses):
//   leakscope: [load 12 s, 18 s left] rss 41 MiB, heap 12 MiB, threads 9, fds 14; top grower:
//   leak_append_slice +3.1 MiB
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cli/detect_session.h"

namespace leakscope {
class Symbolizer;
}

namespace leakscope::cli {

class ProgressLog {
 public:
  explicit ProgressLog(double every_s = 5);
  ~ProgressLog();

  // Prints a line for `now` if `every_s` passed since the last one (or since `first`).
  // `left_s`: seconds left in the phase, nullopt when the phase ends with the load.
  void maybe_print(const Snapshot& first, const Snapshot& now, std::optional<double> left_s);

  // The line itself, without printing it (tests).
  std::string line(const Snapshot& first, const Snapshot& now, std::optional<double> left_s);

 private:
  double every_s_;
  std::optional<double> last_t_s_;
  std::optional<Profile> first_heap_;  // the first snapshot's heap, symbolized once
  std::unique_ptr<Symbolizer> symbolizer_;
};

// "leak_append_slice +3.1 MiB": the site (sites.h naming) whose in-use bytes grew most from
// `before` to `after` (heap profiles, symbolized), or empty when nothing grew.
std::string top_grower(const Profile* before, const Profile& after);

}  // namespace leakscope::cli
