// Operations on profiles, after pprof's profile package: validate, select a sample type, scale,
// merge, compact. A diff is scale(base, -1) then merge (pprof's -base).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/profile/id_index.h"
#include "core/profile/profile.h"
#include "core/util/result.h"

namespace leakscope {

// Checks the invariants listed in profile.h, with the rules pprof applies when reading.
Result<void> validate(const Profile& profile);

// Index of the sample type named `type` (e.g. "inuse_space"); with an empty name, the profile's
// default_sample_type, or else the last sample type (pprof's rule). Like pprof's -sample_index,
// a decimal number selects by position and "inuse_space" also matches a legacy type "space".
Result<size_t> select_sample_type(const Profile& profile, const std::string& type = "");

// Multiplies every sample value by `factor` (rounded to nearest, saturating at the int64
// range); scale(-1) negates exactly.
void scale(Profile& profile, double factor);

// Merges profiles with the same sample types into one, as pprof's profile.Merge does:
//   - mappings are unified by (build_id, or filename without one; size rounded up to 4 KiB;
//     file_offset), so the same binary loaded at another address (ASLR) is one mapping, and the
//     addresses of the later profile are rebased onto the first one's;
//   - locations by (mapping, address relative to it, is_folded, lines);
//   - functions by (name, system_name, filename, start_line);
//   - samples with the same stack and the same labels are summed (saturating); samples whose
//     values are then all zero are dropped (a diff keeps only what changed).
// Header fields: earliest non-zero time, summed duration, largest period, comments united,
// the first non-empty default_sample_type, doc_url, drop_frames, keep_frames. The result is
// compacted (ids 1..N). Errors if sample types or period types differ.
Result<Profile> merge(const std::vector<const Profile*>& profiles);

// Removes samples whose values are all zero and everything they alone referenced, and renumbers
// mapping, location and function ids 1..N in order.
void compact(Profile& profile);

// One frame of a stack as people read it: a location expands to one frame per line (inlined
// frames first), or one frame with only an address when not symbolized.
struct Frame {
  std::string function;  // demangled name, or "module+0x..." / "0x..." when unknown
  std::string file;
  int64_t line = 0;
  uint64_t address = 0;
  std::string mapping;  // mapping file name, may be empty
};

// Lookups by id over one profile, for callers that walk many samples (top, diff, analysis).
// Holds pointers into `profile`: rebuild it after the profile changes.
class ProfileIndex {
 public:
  explicit ProfileIndex(const Profile& profile);
  const Profile& profile() const { return *profile_; }
  const Location* location(uint64_t id) const { return at(profile_->locations, locations_, id); }
  const Function* function(uint64_t id) const { return at(profile_->functions, functions_, id); }
  const Mapping* mapping(uint64_t id) const { return at(profile_->mappings, mappings_, id); }

 private:
  template <typename T>
  static const T* at(const std::vector<T>& items, const IdIndex& index, uint64_t id) {
    int64_t i = index.find(id);
    return i == IdIndex::kMissing ? nullptr : &items[static_cast<size_t>(i)];
  }
  const Profile* profile_;
  IdIndex locations_, functions_, mappings_;
};

// The frames of a sample, leaf first, inlined frames expanded (innermost first). A location
// without lines gives one frame named "<mapping base name>+0x<offset in the file>" (the address
// addr2line takes for a PIE or shared object, stable across runs), or "0x<address>" when it has
// no file mapping; `mapping` is the mapping's base name.
// The first form costs O(1) per frame when ids are 1..N (after decode of Go's or our profiles,
// or compact()) and a scan otherwise; use the ProfileIndex form in loops over many samples.
std::vector<Frame> frames_of(const Profile& profile, const Sample& sample);
std::vector<Frame> frames_of(const ProfileIndex& index, const Sample& sample);

// Whether a frame name is one frames_of gives an unsymbolized location: "0x<hex>" or
// "<module>+0x<hex>" (also pprof's "function+0x12" forms, which name no line either).
bool is_unsymbolized_name(std::string_view name);
// Whether frames_of named this frame by its address: no name, "0x<hex>", or its own mapping's
// "<module>+0x<hex>" (a symbolized "malloc+0x12" is not).
bool is_unsymbolized(const Frame& frame);

}  // namespace leakscope
