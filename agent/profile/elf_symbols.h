// The process's mapped files and their ELF symbol tables, for the profiles' mappings and
// function names and for /debug/pprof/symbol (elf_symbols.cc). Agent thread only: every
// function here reads files and allocates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/agent_api.h"

namespace leakscope::agent {

// One line of /proc/self/maps.
struct MapsLine {
  uint64_t start = 0, limit = 0, offset = 0, inode = 0;
  std::string dev, path;
  bool exec = false;
};

LEAKSCOPE_HIDDEN std::vector<MapsLine> read_maps();
// A path from /proc without the " (deleted)" the kernel adds to a file replaced on disk.
LEAKSCOPE_HIDDEN std::string strip_deleted(std::string path);

// GNU build ID of the mapped file as lowercase hex, "" if none; cached by (device, inode).
LEAKSCOPE_HIDDEN std::string build_id_of(const MapsLine& m);

// The name (as the linker sees it: mangled) of the function containing each run-time address
// in `pcs`, all inside mapping `m`; "" where no symbol covers it. `offsets`, if given, receives
// each address's distance from the start of its function. Names come from the file's
// .symtab (static functions included), else from the .symtab of its separate debug file
// (.build-id/xx/yyyy.debug under LEAKSCOPE_DEBUG_DIR, then /usr/lib/debug), else from .dynsym.
LEAKSCOPE_HIDDEN std::vector<std::string> function_names(const MapsLine& m,
                                                         const std::string& build_id,
                                                         const std::vector<uint64_t>& pcs,
                                                         std::vector<uint64_t>* offsets = nullptr);

// function_names() for addresses anywhere in the process (the maps read afresh, so libraries
// loaded since the last profile are known). "" where no mapping or symbol covers an address.
LEAKSCOPE_HIDDEN std::vector<std::string> function_names_anywhere(
    const std::vector<uint64_t>& pcs, std::vector<uint64_t>* offsets = nullptr);

// What dladdr knows of an address: the nearest dynamic symbol at or below it (name null when
// none) and the object file that maps it. False when no loaded object covers the address. The
// agent's one call to dladdr: the /symbol route's fallback and the trackers' text pages.
struct DlSymbol {
  const char* name = nullptr;  // mangled; valid while its object stays loaded
  uintptr_t start = 0;         // the symbol's address
  const char* file = nullptr;
  uintptr_t base = 0;  // the object's load address
};
LEAKSCOPE_HIDDEN bool dl_symbol(uintptr_t addr, DlSymbol& out);

}  // namespace leakscope::agent
