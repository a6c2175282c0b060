// ElfModule: libdwfl over one file, reported at its link-time addresses.
//
// Addresses. A profile gives a runtime address inside a mapping (memory_start, file_offset).
// The byte there came from file offset  address - memory_start + file_offset,  and the PT_LOAD
// segment holding that offset says which ELF virtual address it has; that works for
// executables, PIE and shared libraries alike, whatever the load bias was. The module is
// reported to libdwfl at base 0, and libdwfl's own bias (non-zero only for odd layouts) is
// added on every lookup.
//
// Inlines. As elfutils' addr2line -i does: dwarf_getscopes finds the innermost scope at the
// address; dwarf_getscopes_die on that DIE gives its physical parents (dwarf_getscopes itself
// would continue into the abstract origin of an inlined subroutine, which is not the caller).
// Walking out, each DW_TAG_inlined_subroutine is one frame, named by its abstract origin, whose
// caller's line is its DW_AT_call_file/DW_AT_call_line; the walk ends at the DW_TAG_subprogram
// it was all inlined into. The innermost frame's line comes from the line table.
//
// rustc (1.63 at least) puts each concrete function inside the DW_TAG_namespace entries of its
// path (crate, module, impl), with no address of their own; libdw 0.188's dwarf_getscopes prunes
// every entry that does not hold the address, namespaces included, so it finds nothing there
// and every Rust frame would lose its inlines (named from the symbol table, with the line of
// the innermost inlined code). When it finds nothing, the compile unit is searched here: its
// out-of-line functions, found once per unit through address-less containers (namespaces,
// types), are indexed by address range; the one holding the address is walked down through the
// scopes that hold it (dwarf_haspc), which gives the same chain addr2line -i prints. (Walking
// the whole unit on every lookup made symbolizing a Rust binary three times slower.)
#include "core/symbolize/elf_module.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

#include "core/symbolize/demangle.h"

namespace leakscope {
namespace {

// One address range of a compile unit's out-of-line function (DWARF addresses, [low, high)).
struct FunctionRange {
  Dwarf_Addr low = 0;
  Dwarf_Addr high = 0;
  Dwarf_Off die = 0;  // the DW_TAG_subprogram's offset in the debug info
};
// Per compile unit (by its DIE's offset), its functions' ranges sorted by `low`. Filled on the
// first lookup that needs it; so resolve() is not safe to call from two threads at once.
using FunctionIndex = std::unordered_map<Dwarf_Off, std::vector<FunctionRange>>;

}  // namespace

struct ElfModule::Impl {
  std::string debuginfo_path;
  char* debuginfo_path_ptr = nullptr;  // libdwfl reads the path through this pointer
  Dwfl_Callbacks callbacks{};          // must outlive dwfl
  Dwfl* dwfl = nullptr;
  Dwfl_Module* mod = nullptr;
  Dwarf_Addr bias = 0;  // dwfl address = ELF vaddr + bias
  FunctionIndex functions;

  ~Impl() {
    if (dwfl != nullptr) dwfl_end(dwfl);
  }
};

namespace {

constexpr uint64_t kPageSize = 4096;

std::string dwfl_error() { return dwfl_errmsg(-1) ? dwfl_errmsg(-1) : "unknown libdwfl error"; }

std::string to_hex(const unsigned char* bits, int len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * static_cast<size_t>(len));
  for (int i = 0; i < len; ++i) {
    out.push_back(kDigits[bits[i] >> 4]);
    out.push_back(kDigits[bits[i] & 0xf]);
  }
  return out;
}

// The DWARF name of a function DIE: its linkage (mangled) name if it has one, else DW_AT_name;
// both looked up through DW_AT_abstract_origin and DW_AT_specification.
const char* die_linkage_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
  if (name == nullptr) {
    name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
  }
  return name;
}

bool is_function_scope(Dwarf_Die* die) {
  int tag = dwarf_tag(die);
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine || tag == DW_TAG_entry_point;
}

void name_frame(Dwarf_Die* die, ResolvedFrame& frame) {
  const char* linkage = die_linkage_name(die);
  const char* plain = dwarf_diename(die);
  frame.system_name = linkage ? linkage : (plain ? plain : "");
  frame.name = demangle(frame.system_name);
  if (const char* file = dwarf_decl_file(die)) frame.filename = file;
  int line = 0;
  if (dwarf_decl_line(die, &line) == 0) frame.start_line = line;
}

// The call site (file, line) recorded on an inlined subroutine DIE: where its caller called it.
void call_site(Dwarf_Die* inlined, std::string& file, int64_t& line) {
  Dwarf_Attribute attr;
  Dwarf_Word value = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &value) == 0) {
    line = static_cast<int64_t>(value);
  }
  Dwarf_Die cu;
  Dwarf_Files* files = nullptr;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &value) == 0 &&
      dwarf_diecu(inlined, &cu, nullptr, nullptr) != nullptr &&
      dwarf_getsrcfiles(&cu, &files, nullptr) == 0) {
    if (const char* name = dwarf_filesrc(files, value, nullptr, nullptr)) file = name;
  }
}

// Entries with no address of their own that may hold functions which have one: a function
// nested in a namespace, a method in a type (rustc's impls, C++ classes defined in place).
bool is_container(int tag) {
  return tag == DW_TAG_namespace || tag == DW_TAG_module || tag == DW_TAG_structure_type ||
         tag == DW_TAG_class_type || tag == DW_TAG_union_type || tag == DW_TAG_enumeration_type ||
         tag == DW_TAG_variant_part || tag == DW_TAG_variant;
}

bool holds_scopes(int tag) {
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
         tag == DW_TAG_entry_point || tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
         tag == DW_TAG_catch_block || tag == DW_TAG_with_stmt;
}

// Appends to `chain` (outermost first) the function-like scopes under `parent` that hold `pc`;
// true when some scope under `parent` held it. Depth is that of the DWARF tree (bounded by it).
bool containing_scopes(Dwarf_Die* parent, Dwarf_Addr pc, std::vector<Dwarf_Die>& chain) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return false;
  do {
    int tag = dwarf_tag(&child);
    if (is_container(tag)) {
      if (containing_scopes(&child, pc, chain)) return true;
    } else if (holds_scopes(tag) && dwarf_haspc(&child, pc) > 0) {
      if (is_function_scope(&child)) chain.push_back(child);
      containing_scopes(&child, pc, chain);
      return true;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

// Appends the address ranges of the subprograms under `parent`, looking through containers
// (not into functions: a nested function is found by the walk down from its parent).
void collect_functions(Dwarf_Die* parent, std::vector<FunctionRange>& out) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    if (is_container(tag)) {
      collect_functions(&child, out);
    } else if (tag == DW_TAG_subprogram) {
      Dwarf_Addr base = 0, low = 0, high = 0;
      for (ptrdiff_t at = 0; (at = dwarf_ranges(&child, at, &base, &low, &high)) > 0;) {
        out.push_back({low, high, dwarf_dieoffset(&child)});
      }
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

// The scopes containing `pc`, innermost first, found from the unit's function index (see the
// top of the file): what dwarf_getscopes would give, for units it cannot search.
std::vector<Dwarf_Die> indexed_scopes(FunctionIndex& index, Dwarf* dwarf, Dwarf_Die* cudie,
                                      Dwarf_Addr pc) {
  auto [entry, fresh] = index.try_emplace(dwarf_dieoffset(cudie));
  std::vector<FunctionRange>& ranges = entry->second;
  if (fresh) {
    collect_functions(cudie, ranges);
    std::sort(ranges.begin(), ranges.end(),
              [](const FunctionRange& a, const FunctionRange& b) { return a.low < b.low; });
  }
  auto after = std::upper_bound(ranges.begin(), ranges.end(), pc,
                                [](Dwarf_Addr a, const FunctionRange& r) { return a < r.low; });
  Dwarf_Die function;
  if (after == ranges.begin() || pc >= std::prev(after)->high ||
      dwarf_offdie(dwarf, std::prev(after)->die, &function) == nullptr) {
    return {};
  }
  std::vector<Dwarf_Die> chain = {function};
  containing_scopes(&function, pc, chain);
  std::reverse(chain.begin(), chain.end());
  return chain;
}

// The function-like scopes containing `pc` (CU-relative), innermost first, ending at the first
// out-of-line subprogram. Empty when the address is in no function the DWARF describes.
std::vector<Dwarf_Die> function_scopes(Dwfl_Module* mod, FunctionIndex& index, Dwarf_Die* cudie,
                                       Dwarf_Addr pc) {
  std::vector<Dwarf_Die> out;
  Dwarf_Die* scopes = nullptr;
  Dwarf_Addr dwarf_bias = 0;
  Dwarf* dwarf = dwfl_module_getdwarf(mod, &dwarf_bias);
  int n = dwarf_getscopes(cudie, pc, &scopes);
  if (n <= 0) {
    std::free(scopes);
    for (Dwarf_Die& scope : indexed_scopes(index, dwarf, cudie, pc)) {
      out.push_back(scope);
      if (dwarf_tag(&scope) != DW_TAG_inlined_subroutine) break;
    }
    return out;
  }
  Dwarf_Die innermost;
  bool found = dwarf_offdie(dwarf, dwarf_dieoffset(&scopes[0]), &innermost) != nullptr;
  std::free(scopes);
  scopes = nullptr;
  if (!found) return out;
  n = dwarf_getscopes_die(&innermost, &scopes);
  for (int i = 0; i < n; ++i) {
    if (!is_function_scope(&scopes[i])) continue;
    out.push_back(scopes[i]);
    if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine) break;
  }
  std::free(scopes);
  return out;
}

}  // namespace

ElfModule::ElfModule(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ElfModule::~ElfModule() = default;

Result<std::unique_ptr<ElfModule>> ElfModule::open(const std::string& path,
                                                   const std::string& debuginfo_path) {
  auto impl = std::make_unique<Impl>();
  impl->debuginfo_path = debuginfo_path;
  impl->debuginfo_path_ptr = impl->debuginfo_path.data();
  impl->callbacks.find_elf = dwfl_build_id_find_elf;
  impl->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
  impl->callbacks.section_address = dwfl_offline_section_address;
  impl->callbacks.debuginfo_path = &impl->debuginfo_path_ptr;
  impl->dwfl = dwfl_begin(&impl->callbacks);
  if (impl->dwfl == nullptr) return make_error(path + ": " + dwfl_error());
  dwfl_report_begin(impl->dwfl);
  impl->mod = dwfl_report_elf(impl->dwfl, path.c_str(), path.c_str(), -1, 0, false);
  if (impl->mod == nullptr) return make_error(path + ": " + dwfl_error());
  dwfl_report_end(impl->dwfl, nullptr, nullptr);

  Elf* elf = dwfl_module_getelf(impl->mod, &impl->bias);
  if (elf == nullptr) return make_error(path + ": " + dwfl_error());
  std::unique_ptr<ElfModule> module(new ElfModule(std::move(impl)));

  const unsigned char* bits = nullptr;
  GElf_Addr note_vaddr = 0;
  int len = dwfl_module_build_id(module->impl_->mod, &bits, &note_vaddr);
  if (len > 0) module->build_id_ = to_hex(bits, len);

  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) != 0) return make_error(path + ": no program headers");
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr || phdr.p_type != PT_LOAD) {
      continue;
    }
    if (phdr.p_filesz > 0) {
      module->segments_.push_back({phdr.p_offset, phdr.p_vaddr, phdr.p_filesz});
    } else if ((phdr.p_flags & PF_X) != 0 && phdr.p_memsz > 0) {
      module->exec_page_vaddr_ = phdr.p_vaddr & ~uint64_t{kPageSize - 1};
    }
  }
  return module;
}

std::optional<uint64_t> ElfModule::to_vaddr(uint64_t delta, uint64_t mapping_offset) const {
  if (exec_page_vaddr_) return *exec_page_vaddr_ + delta;
  uint64_t file_offset = mapping_offset + delta;
  for (const Segment& s : segments_) {
    if (file_offset >= s.offset && file_offset - s.offset < s.size) {
      return file_offset - s.offset + s.vaddr;
    }
  }
  return std::nullopt;
}

Resolution ElfModule::resolve(uint64_t vaddr) const {
  Resolution r;
  Dwarf_Addr addr = vaddr + impl_->bias;
  Dwarf_Addr cu_bias = 0;
  if (Dwarf_Die* cudie = dwfl_module_addrdie(impl_->mod, addr, &cu_bias)) {
    std::vector<Dwarf_Die> scopes =
        function_scopes(impl_->mod, impl_->functions, cudie, addr - cu_bias);
    r.frames.resize(scopes.size());
    for (size_t i = 0; i < scopes.size(); ++i) {
      name_frame(&scopes[i], r.frames[i]);
      if (i == 0) continue;
      std::string call_file;
      call_site(&scopes[i - 1], call_file, r.frames[i].line);
      if (r.frames[i].filename.empty()) r.frames[i].filename = call_file;
    }
    r.from_dwarf = !scopes.empty();
  }
  use_symbol_table(addr, r);
  if (r.frames.empty()) return r;
  // The innermost frame's line from the line table.
  if (Dwfl_Line* line = dwfl_module_getsrc(impl_->mod, addr)) {
    int lineno = 0;
    const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
    r.frames.front().line = lineno;
    if (r.frames.front().filename.empty() && file != nullptr) r.frames.front().filename = file;
  }
  return r;
}

// The ELF symbol names the out-of-line function when there is no DWARF, and replaces a DWARF
// name that is not the linkage name (a bare "method") when the symbol is a mangled one.
void ElfModule::use_symbol_table(uint64_t addr, Resolution& r) const {
  GElf_Off offset = 0;
  GElf_Sym sym;
  const char* symbol =
      dwfl_module_addrinfo(impl_->mod, addr, &offset, &sym, nullptr, nullptr, nullptr);
  if (symbol == nullptr) return;
  std::string_view s(symbol);
  bool mangled = s.starts_with("_Z") || s.starts_with("_R");
  if (r.frames.empty()) {
    r.frames.emplace_back();
  } else {
    const std::string& dwarf_name = r.frames.back().system_name;
    bool dwarf_mangled = dwarf_name.starts_with("_Z") || dwarf_name.starts_with("_R");
    if (!dwarf_name.empty() && (dwarf_mangled || !mangled)) return;
  }
  r.frames.back().system_name = symbol;
  r.frames.back().name = demangle(s);
}

}  // namespace leakscope
