// The catalogue's words: for each pattern id its title, likely cause and what to change. The
// matchers (patterns.cc) supply the evidence; the words here are the same for every finding of a
// pattern, so they never claim more than the pattern itself.
#pragma once

#include <string>

#include "core/analysis/finding.h"

namespace leakscope::analysis {

// The pattern `id` with its catalogue cause and fix, and `evidence` (what matched). An id the
// catalogue does not know gets an empty cause and fix.
Pattern make_pattern(const std::string& id, std::string evidence);

// True for the catalogue's leak patterns; false for the not-a-leak ones and unknown ids.
bool is_leak_pattern(const std::string& id);

// id "none": what was looked for on a finding of this kind, and found missing.
Pattern no_pattern(const Finding& f);

}  // namespace leakscope::analysis
