// One ELF file opened for symbolization with elfutils' libdwfl: its build ID, its loadable
// segments (to turn a mapping's file offset into an ELF virtual address), and resolution of an
// address into frames, inlined frames first. DWARF when the file or its separate debuginfo has
// it (libdw's standard search: .gnu_debuglink, then <debug dir>/.build-id/xx/yyyy.debug); the
// ELF symbol table otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace leakscope {

// One frame of source: a function and the line executing in it.
struct ResolvedFrame {
  std::string name;         // demangled
  std::string system_name;  // as the linker sees it (mangled), or the DWARF name
  std::string filename;     // where the function is declared, else the line's file
  int64_t start_line = 0;   // the function's declaration line, 0 when unknown
  int64_t line = 0;         // the line executing in this frame, 0 when unknown
};

// What one address resolves to. `frames` are innermost first: frames[0] is the code at the
// address, each next one the function it was inlined into; the last is the real (out-of-line)
// function. Empty when nothing is known.
struct Resolution {
  std::vector<ResolvedFrame> frames;
  bool from_dwarf = false;  // frames come from debug info (lines and inlines are meaningful)
};

class ElfModule {
 public:
  // Opens `path`. `debuginfo_path` is libdwfl's search path for separate debuginfo
  // (":.debug:/usr/lib/debug" style). Fails when the file is not a readable ELF file.
  static Result<std::unique_ptr<ElfModule>> open(const std::string& path,
                                                 const std::string& debuginfo_path);
  ~ElfModule();
  ElfModule(const ElfModule&) = delete;
  ElfModule& operator=(const ElfModule&) = delete;

  // The GNU build ID as lowercase hex; empty when the file has none.
  const std::string& build_id() const { return build_id_; }

  // The ELF virtual address of the byte `delta` bytes into a mapping of this file that starts
  // at `mapping_offset`; nullopt when no loadable segment holds it.
  std::optional<uint64_t> to_vaddr(uint64_t delta, uint64_t mapping_offset) const;

  // Resolves an ELF virtual address (as to_vaddr gives).
  Resolution resolve(uint64_t vaddr) const;

 private:
  struct Segment {
    uint64_t offset = 0;
    uint64_t vaddr = 0;
    uint64_t size = 0;  // bytes of the file mapped (p_filesz)
  };
  // A separate debug file (objcopy --only-keep-debug) keeps the program headers but zeroes
  // their file offsets and sizes; then the executable segment's page is taken to be where an
  // executable mapping starts (how the loader maps it).
  std::optional<uint64_t> exec_page_vaddr_;  // set only for such debug-only files
  struct Impl;

  explicit ElfModule(std::unique_ptr<Impl> impl);
  void use_symbol_table(uint64_t addr, Resolution& r) const;

  std::unique_ptr<Impl> impl_;
  std::string build_id_;
  std::vector<Segment> segments_;
};

}  // namespace leakscope
