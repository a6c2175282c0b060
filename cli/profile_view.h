// Profile views for the offline verbs (top, diff) and the reports: load a profile file with a
// one-line error, symbolize it when it carries raw addresses, pick a sample type by pprof's rule,
// format values as pprof does ("12.50MB", counts plain), and total values per function the way
// `pprof -top` does. Pure functions over the model; printing is the verbs' business.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/profile/profile.h"
#include "core/profile/profile_ops.h"
#include "core/util/result.h"

namespace leakscope::cli {

// Reads and decodes `path`. Errors name the file and say what is wrong ("heap.pb.gz: truncated
// varint at byte 812"), fit for one line after "leakscope: error: ".
Result<Profile> load_profile(const std::string& path);

// Symbolizes the mappings of `profile` that have raw addresses and no symbols, from the local
// files (core/symbolize). Returns a one-line note for stderr when some locations stay
// unresolved ("3 of 40 locations not symbolized: /opt/app: no such file"), or "".
std::string symbolize_for_view(Profile& profile);

// The sample type to show: `name` if given (else the profile's default, else the last one, as
// pprof does). The error lists the types the profile has.
Result<size_t> pick_sample_type(const Profile& profile, const std::string& name);

// pprof's value labels. A report uses one output unit for all its values, chosen from the
// smallest non-zero and the largest magnitude it shows (pprof's selectOutputUnit): memory units
// scale by 1024 (B, kB, MB, GB, TB, PB), time units by their factors (ns, us, ms, s, hrs);
// counts and unknown units print as plain integers.
class ValueFormat {
 public:
  // `unit` is the sample type's unit ("bytes", "count", "nanoseconds"...).
  ValueFormat(const std::string& unit, int64_t smallest_nonzero, int64_t largest);
  std::string operator()(int64_t value) const;

 private:
  std::string unit_;    // the profile's unit
  std::string output_;  // the chosen output unit, or "" for plain numbers
};

// One function-level row of `top`, pprof's default granularity (functions, inlines expanded):
// flat goes to the innermost frame of a sample's leaf location, cum once per sample to every
// function on its stack. Locations without symbols count as "[<mapping file base name>]" (or
// "<unknown>" without a mapping), as pprof shows them.
struct FunctionRow {
  std::string function;
  std::string file;
  int64_t line = 0;  // the function's start line, else the line it is hottest at
  int64_t flat = 0;
  int64_t cum = 0;
  // pprof's mark: "(inline)" when every call into the function was inlined, "(partial-inline)"
  // when some were, "" when none.
  std::string inline_label;
};

struct FunctionTotals {
  std::vector<FunctionRow> rows;  // functions with a non-zero flat or cum, sorted (see below)
  int64_t total = 0;              // sum of |value| over samples: pprof's total
};

// Totals for sample type `index`, sorted as pprof's top sorts: by |flat| (or |cum| with
// by_cum) descending, then by name.
FunctionTotals function_totals(const Profile& profile, size_t index, bool by_cum = false);

// pprof's percentage column: "  100%", "12.34%", " 0.56%"; at least two significant digits.
std::string percentage(int64_t value, int64_t total);

}  // namespace leakscope::cli
