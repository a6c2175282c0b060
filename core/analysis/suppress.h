// Suppressions: a known, accepted site (a cache that is meant to grow, a pool sized at start)
// named once in a file so that it stops failing runs. The file has one function pattern per
// line; '#' starts a comment; blank lines are ignored. A pattern matches a finding when it matches
// any function of the finding's stack (or its site, or a metrics finding's family name),
// LeakSanitizer-style: '*' matches any run of characters, and the pattern may match anywhere in
// the name unless it starts with '^' or ends with '$'. A leading "leak:" (LeakSanitizer's
// suppression syntax) is accepted and ignored. Suppressed findings stay in the report, marked, and
// never count for the verdict. A line "wrapper: REGEX" is no suppression: it names an allocator
// wrapper of the program (sites.h), cut from every stack like malloc, as `--wrapper REGEX` does.
#pragma once

#include <string>
#include <vector>

#include "core/analysis/finding.h"
#include "core/util/result.h"

namespace leakscope::analysis {

struct Suppressions {
  std::vector<std::string> patterns;
  std::vector<std::string> wrappers;  // "wrapper: REGEX" lines, for SiteOptions::wrappers
};

// Parses the text of a suppressions file. Errors name the line ("line 3: empty pattern '^$'").
Result<Suppressions> parse_suppressions(const std::string& text);
Result<Suppressions> read_suppressions(const std::string& path);

// True when `pattern` matches `name` under the rules above.
bool pattern_matches(const std::string& pattern, const std::string& name);

// Sets `suppressed` on every finding a pattern matches; returns how many it marked.
size_t apply_suppressions(const Suppressions& s, std::vector<Finding>& findings);

}  // namespace leakscope::analysis
