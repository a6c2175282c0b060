// How a run gathers enough evidence from a short load: how often to snapshot while the load runs,
// and whether to run the load again (rounds). pacing.cc opens with the argument and the figures.
#pragma once

#include <string>

namespace leakscope::analysis {

// Seconds between snapshots while the load runs: as fast as a snapshot's measured cost allows
// (`snapshot_cost_s`, the wall time of the slowest baseline snapshot; <= 0: not measured), never
// faster than kFastestLoadInterval, never slower than the user's `interval_s`.
inline constexpr double kFastestLoadInterval = 0.2;
inline constexpr double kSnapshotDutyCycle = 0.1;  // at most this share of the time snapshotting
double load_interval(double interval_s, double snapshot_cost_s);

// --rounds: 0 (the default) repeats the load while the evidence is short, within bounds; N runs
// it exactly N times (1: a load that must not be repeated).
struct RoundsPolicy {
  int rounds = 0;             // 0: automatic
  double enough_load_s = 10;  // automatic: stop once the load phase lasted this long
  double short_round_s = 5;   // automatic: only a round shorter than this is repeated
  double max_load_s = 30;     // automatic: never start a round that would end past this
  int max_automatic_rounds = 12;
};

// After `done` rounds that took `load_s` seconds in all, the last `last_round_s`: run another?
bool another_round(const RoundsPolicy& policy, int done, double load_s, double last_round_s);

// The report's note on what the rounds were and why (empty after one round of an automatic run).
std::string rounds_note(const RoundsPolicy& policy, int done, double load_s, double first_round_s);

}  // namespace leakscope::analysis
