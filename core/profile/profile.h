// The profile model: pprof's Profile message (perftools.profiles, profile.proto on google/pprof
// main) as plain C++ structs, with strings resolved instead of string-table indices. The codec
// (pprof_codec.h) maps between this and the wire; the operations (profile_ops.h) are pprof's
// merge, scale, compact and select. Nothing here knows about processes or rendering.
//
// Invariants of a valid profile (checked by validate()):
//   - every sample has exactly sample_types.size() values;
//   - ids of mappings, locations and functions are non-zero and unique within their kind;
//   - every location_id a sample names exists; every mapping_id (non-zero) and function_id a
//     location names exists;
//   - sample.location_ids are leaf first (location_ids[0] is the leaf); within one Location the
//     lines are innermost first (the last line is the caller the others were inlined into).
// After compact(), ids are exactly 1..N in vector order, as Parca requires.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace leakscope {

struct ValueType {
  std::string type;  // e.g. "inuse_space"
  std::string unit;  // e.g. "bytes", "count"
  bool operator==(const ValueType&) const = default;
};

// A label has either a string or a numeric value ("at most one of str/num", profile.proto).
struct Label {
  std::string key;
  std::string str;
  int64_t num = 0;
  std::string num_unit;
  bool operator==(const Label&) const = default;
};

struct Mapping {
  uint64_t id = 0;
  uint64_t memory_start = 0;
  uint64_t memory_limit = 0;
  uint64_t file_offset = 0;
  std::string filename;  // path, or "[vdso]", "[stack]"...
  std::string build_id;  // hex string, as Go and pprof write it
  bool has_functions = false;
  bool has_filenames = false;
  bool has_line_numbers = false;
  bool has_inline_frames = false;
  bool operator==(const Mapping&) const = default;
};

struct Function {
  uint64_t id = 0;
  std::string name;         // human readable (demangled)
  std::string system_name;  // as the linker sees it (mangled)
  std::string filename;
  int64_t start_line = 0;
  bool operator==(const Function&) const = default;
};

struct Line {
  uint64_t function_id = 0;
  int64_t line = 0;
  int64_t column = 0;
  bool operator==(const Line&) const = default;
};

struct Location {
  uint64_t id = 0;
  uint64_t mapping_id = 0;  // 0: unknown
  uint64_t address = 0;     // non-leaf frames hold return address - 1
  std::vector<Line> lines;  // innermost first; empty until symbolized
  bool is_folded = false;
  bool operator==(const Location&) const = default;
};

struct Sample {
  std::vector<uint64_t> location_ids;  // leaf first
  std::vector<int64_t> values;         // one per Profile::sample_types
  std::vector<Label> labels;
  bool operator==(const Sample&) const = default;
};

struct Profile {
  std::vector<ValueType> sample_types;
  std::vector<Sample> samples;
  std::vector<Mapping> mappings;  // mappings[0] is the main binary, by convention
  std::vector<Location> locations;
  std::vector<Function> functions;
  std::string drop_frames;  // regex
  std::string keep_frames;  // regex
  int64_t time_nanos = 0;
  int64_t duration_nanos = 0;  // 0 on point-in-time profiles
  ValueType period_type;
  int64_t period = 0;
  std::vector<std::string> comments;
  std::string default_sample_type;  // empty: clients use the last sample type
  std::string doc_url;
  bool operator==(const Profile&) const = default;
};

}  // namespace leakscope
