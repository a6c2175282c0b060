// The symbolizer (CLI side only): fills in functions, files, lines and inlined frames for
// locations that have an address and a mapping but no lines, or only symbol-table names (lines
// without a line number, in a mapping that claims no symbols), which is what the agent serves. See
// symbolizer.cc for how files are found and matched.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/profile/profile.h"
#include "core/symbolize/elf_module.h"
#include "core/util/result.h"

namespace leakscope {

struct SymbolizeOptions {
  // Roots of separate debuginfo trees, searched by build ID (<dir>/.build-id/xx/yyyy.debug) and
  // by .gnu_debuglink. A mapping whose file is gone is symbolized from its debug file there.
  std::vector<std::string> debug_dirs = {"/usr/lib/debug"};
  // Re-symbolize mappings that already claim symbols (has_functions), replacing their lines.
  bool force = false;
};

// What a symbolize() call did, for messages ("12 of 40 locations unresolved: ...").
struct SymbolizeStats {
  int64_t locations = 0;             // locations that needed symbols
  int64_t resolved = 0;              // of those, how many got at least one line
  std::vector<std::string> skipped;  // one "file: why" per mapping that could not be used
};

// Holds opened ELF files and resolved addresses across calls, keyed by (path, build ID, file
// modification time), so repeated snapshots of one process are symbolized once per address.
// Not thread-safe; the free function symbolize() below serialises access to a shared one.
class Symbolizer {
 public:
  explicit Symbolizer(SymbolizeOptions options = {});
  ~Symbolizer();

  Result<void> symbolize(Profile& profile, SymbolizeStats* stats = nullptr);

 private:
  struct CachedModule;
  CachedModule* module_for(const Mapping& mapping, std::string& why);
  CachedModule* open_cached(const std::string& path, const std::string& build_id, std::string& why);
  // True for a location without lines, or with only names (no line numbers: the agent's
  // symbol-table names, which DWARF improves on), or any location under `force`.
  bool needs_symbols(const Location& loc) const;

  SymbolizeOptions options_;
  std::string debuginfo_path_;  // libdwfl's search path, from options_.debug_dirs
  std::map<std::string, std::unique_ptr<CachedModule>> cache_;
};

// Symbolizes `profile` in place with a process-wide Symbolizer for these options. Mappings whose
// file cannot be found or whose build ID does not match are left as they are (stats->skipped
// says why); has_functions and the other flags are set only on mappings that got symbols.
Result<void> symbolize(Profile& profile, const SymbolizeOptions& options = {},
                       SymbolizeStats* stats = nullptr);

}  // namespace leakscope
