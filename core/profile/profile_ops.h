// Operations on profiles, after pprof's profile package: validate, select a sample type, scale,
// merge, compact. A diff is scale(base, -1) then merge (pprof's -base).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/profile/profile.h"
#include "core/util/result.h"

namespace leakscope {

// Checks the invariants listed in profile.h, with the rules pprof applies when reading.
Result<void> validate(const Profile& profile);

// Index of the sample type named `type` (e.g. "inuse_space"); with an empty name, the profile's
// default_sample_type, or else the last sample type (pprof's rule).
Result<size_t> select_sample_type(const Profile& profile, const std::string& type = "");

// Multiplies every sample value by `factor` (rounded to nearest); scale(-1) negates.
void scale(Profile& profile, double factor);

// Merges profiles with the same sample types into one: locations are unified by (mapping,
// address) or, without an address, by their lines; functions by (name, system_name, filename,
// start_line); samples with the same stack and labels are summed. Errors if sample types differ.
Result<Profile> merge(const std::vector<const Profile*>& profiles);

// Removes samples whose values are all zero and everything they alone referenced, and renumbers
// mapping, location and function ids 1..N in order.
void compact(Profile& profile);

// One frame of a stack as people read it: a location expands to one frame per line (inlined
// frames first), or one frame with only an address when not symbolized.
struct Frame {
  std::string function;  // demangled name, or "0x..." when unknown
  std::string file;
  int64_t line = 0;
  uint64_t address = 0;
  std::string mapping;  // mapping file name, may be empty
};

// The frames of a sample, leaf first, inlined frames expanded.
std::vector<Frame> frames_of(const Profile& profile, const Sample& sample);

}  // namespace leakscope
