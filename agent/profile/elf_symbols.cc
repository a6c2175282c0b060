// The process's mapped files and the names of their functions, read off the files themselves.
//
// Why the agent names functions at all (it serves raw addresses: README, "The agent"): `go tool
// pprof` cannot symbolize a C or C++ binary locally. Its object reader (cmd/pprof) looks for
// Go's pclntab, then falls back to debug/dwarf's LineReader.SeekPC, which assumes the line
// table's sequences are sorted by address; GCC emits one sequence per section (.text,
// .text.startup, every inline function's COMDAT section) in section order, so nearly every
// address of a C++ program is "unknown" and the frame prints as `[prog]` (where it does find
// one, it names the function by DW_AT_name only, "" for a template instance: `[prog]` again).
// Its remote fallback, /debug/pprof/symbol, only saw what dladdr sees (the dynamic symbols:
// nothing of a program not linked with -rdynamic). So the agent puts the symbol-table name of
// each frame's function into the profile, marks a mapping whose every frame got one
// has_functions (so go tool pprof keeps them; profile_out.cc), and answers /symbol from the
// same tables. pprof -symbolize=force and leakscope re-symbolize over these names with files,
// lines and inlined frames.
//
// How, bounded: one streaming pass over the symbol table per mapping and request, in chunks,
// matching each defined, sized function symbol against the sorted addresses asked about; the
// memory is O(addresses) plus one chunk, whatever the size of the table. Only the chosen
// symbols' names are read from the string table. The tightest symbol containing an address
// wins (a global one over a local alias of the same size).
#include "agent/profile/elf_symbols.h"
#include "agent/own_fds.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "agent/agent_internal.h"

namespace leakscope::agent {

namespace {

constexpr size_t kSymbolsPerChunk = 2048;  // 48 KiB of Elf64_Sym
constexpr size_t kMaxNameBytes = 4096;
constexpr uint16_t kMaxSections = 16384;

std::string read_small_file(const char* path, size_t limit = 64 << 20) {
  std::string out;
  int fd = own_fd(open(path, O_RDONLY | O_CLOEXEC));  // the agent's, at a high number
  if (fd < 0) return out;
  char buf[16384];
  while (own_fd_live(fd)) {  // the program may close it under us: then the number is its own
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) break;
  }
  own_fd_close(fd);
  return out;
}

bool pread_all(int fd, void* buf, size_t n, uint64_t at) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t got = pread(fd, p, n, static_cast<off_t>(at));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
    at += static_cast<uint64_t>(got);
  }
  return true;
}

// An open 64-bit ELF file with its program and section headers.
struct Elf {
  int fd = -1;
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
  std::vector<Elf64_Shdr> sh;

  explicit Elf(const std::string& path) {
    fd = own_fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));  // the agent's, at a high number
    if (fd < 0) return;
    if (!pread_all(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64) {
      own_fd_close(fd);
      fd = -1;
      return;
    }
    if (eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
      ph.resize(eh.e_phnum);
      if (!pread_all(fd, ph.data(), ph.size() * sizeof(Elf64_Phdr), eh.e_phoff)) ph.clear();
    }
    if (eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum < kMaxSections) {
      sh.resize(eh.e_shnum);
      if (!pread_all(fd, sh.data(), sh.size() * sizeof(Elf64_Shdr), eh.e_shoff)) sh.clear();
    }
  }
  ~Elf() {
    if (fd >= 0) own_fd_close(fd);
  }
  Elf(const Elf&) = delete;
  Elf& operator=(const Elf&) = delete;

  // The section of `type` (SHT_SYMTAB, SHT_DYNSYM) with its string table; nullptr if none.
  const Elf64_Shdr* symbols(uint32_t type, const Elf64_Shdr** strings) const {
    for (const Elf64_Shdr& s : sh) {
      if (s.sh_type != type || s.sh_entsize != sizeof(Elf64_Sym) || s.sh_link >= sh.size()) {
        continue;
      }
      if (strings != nullptr) *strings = &sh[s.sh_link];
      return &s;
    }
    return nullptr;
  }

  // The link-time address of the byte at `file_offset`, by the PT_LOAD that maps it.
  bool vaddr_of(uint64_t file_offset, uint64_t* vaddr) const {
    for (const Elf64_Phdr& p : ph) {
      if (p.p_type != PT_LOAD || file_offset < p.p_offset ||
          file_offset >= p.p_offset + p.p_filesz) {
        continue;
      }
      *vaddr = file_offset - p.p_offset + p.p_vaddr;
      return true;
    }
    return false;
  }
};

std::string read_build_id(const Elf& elf) {
  for (const Elf64_Phdr& p : elf.ph) {
    if (p.p_type != PT_NOTE || p.p_filesz > (1 << 16)) continue;
    std::string notes(p.p_filesz, '\0');
    if (!pread_all(elf.fd, notes.data(), notes.size(), p.p_offset)) continue;
    size_t at = 0;
    while (at + sizeof(Elf64_Nhdr) <= notes.size()) {
      Elf64_Nhdr nh;
      memcpy(&nh, notes.data() + at, sizeof(nh));
      size_t name_at = at + sizeof(nh);
      size_t desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
      size_t next = desc_at + ((nh.n_descsz + 3) & ~3u);
      if (next > notes.size()) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
          memcmp(notes.data() + name_at, "GNU", 4) == 0) {
        static const char kHex[] = "0123456789abcdef";
        std::string id;
        for (size_t i = 0; i < nh.n_descsz; ++i) {
          auto b = static_cast<unsigned char>(notes[desc_at + i]);
          id += kHex[b >> 4];
          id += kHex[b & 15];
        }
        return id;
      }
      at = next;
    }
  }
  return "";
}

// The best symbol found so far for one address.
struct Match {
  uint64_t size = UINT64_MAX;  // UINT64_MAX: none yet
  uint64_t value = 0;          // the symbol's address
  uint32_t name = 0;
  bool global = false;
};

bool better(const Elf64_Sym& s, const Match& m) {
  bool global = ELF64_ST_BIND(s.st_info) != STB_LOCAL;
  return s.st_size < m.size || (s.st_size == m.size && global && !m.global);
}

// One pass over the symbol table: for each vaddr (sorted), the tightest function containing it.
std::vector<Match> scan(const Elf& elf, const Elf64_Shdr& table,
                        const std::vector<uint64_t>& vaddrs) {
  std::vector<Match> best(vaddrs.size());
  std::vector<Elf64_Sym> chunk(kSymbolsPerChunk);
  uint64_t total = table.sh_size / sizeof(Elf64_Sym);
  for (uint64_t first = 0; first < total; first += kSymbolsPerChunk) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kSymbolsPerChunk, total - first));
    if (!pread_all(elf.fd, chunk.data(), n * sizeof(Elf64_Sym),
                   table.sh_offset + first * sizeof(Elf64_Sym))) {
      break;
    }
    for (size_t i = 0; i < n; ++i) {
      const Elf64_Sym& s = chunk[i];
      int type = ELF64_ST_TYPE(s.st_info);
      if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
          s.st_size == 0 || s.st_name == 0) {
        continue;
      }
      auto it = std::lower_bound(vaddrs.begin(), vaddrs.end(), s.st_value);
      for (; it != vaddrs.end() && *it - s.st_value < s.st_size; ++it) {
        Match& m = best[static_cast<size_t>(it - vaddrs.begin())];
        if (better(s, m)) {
          m = Match{s.st_size, s.st_value, s.st_name, ELF64_ST_BIND(s.st_info) != STB_LOCAL};
        }
      }
    }
  }
  return best;
}

std::string read_name(const Elf& elf, const Elf64_Shdr& strings, uint32_t at) {
  std::string name;
  char buf[256];
  while (at < strings.sh_size && name.size() < kMaxNameBytes) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof(buf), strings.sh_size - at));
    if (!pread_all(elf.fd, buf, n, strings.sh_offset + at)) return "";
    size_t len = strnlen(buf, n);
    name.append(buf, len);
    if (len < n) break;
    at += static_cast<uint32_t>(n);
  }
  size_t version = name.find('@');  // "__libc_start_main@@GLIBC_2.34": pprof wants the name
  if (version != std::string::npos && version > 0) name.resize(version);
  return name;
}

// Names `vaddrs` (sorted) from one table of `elf` into the still-empty entries of `names`.
void name_from(const Elf& elf, uint32_t type, const std::vector<uint64_t>& vaddrs,
               std::vector<std::string>& names, std::vector<uint64_t>& offsets) {
  const Elf64_Shdr* strings = nullptr;
  const Elf64_Shdr* table = elf.symbols(type, &strings);
  if (table == nullptr) return;
  std::vector<Match> best = scan(elf, *table, vaddrs);
  for (size_t i = 0; i < best.size(); ++i) {
    if (best[i].size != UINT64_MAX && names[i].empty()) {
      names[i] = read_name(elf, *strings, best[i].name);
      offsets[i] = vaddrs[i] - best[i].value;
    }
  }
}

// The file that is mapped, not whatever now sits at its path (a deploy that replaced the
// binary, a deleted library): /proc/self/map_files/START-LIMIT, where the kernel lets us open
// it, else the path.
std::string mapped_file(const MapsLine& m) {
  char link[96];
  snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", static_cast<unsigned long>(m.start),
           static_cast<unsigned long>(m.limit));
  return access(link, R_OK) == 0 ? std::string(link) : m.path;
}

}  // namespace

std::string strip_deleted(std::string path) {
  const std::string deleted = " (deleted)";
  if (path.size() > deleted.size() &&
      path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0) {
    path.resize(path.size() - deleted.size());
  }
  return path;
}

std::vector<MapsLine> read_maps() {
  std::vector<MapsLine> out;
  std::string text = read_small_file("/proc/self/maps");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    MapsLine m{};
    char perms[8] = {}, dev[32] = {};
    int path_at = 0;
    if (sscanf(line.c_str(), "%lx-%lx %7s %lx %31s %lu %n", &m.start, &m.limit, perms, &m.offset,
               dev, &m.inode, &path_at) < 6) {
      continue;
    }
    m.exec = perms[2] == 'x';
    m.dev = dev;
    if (path_at > 0 && static_cast<size_t>(path_at) <= line.size()) {
      m.path = strip_deleted(line.substr(path_at));
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::string build_id_of(const MapsLine& m) {
  static auto* cache = new std::map<std::pair<std::string, uint64_t>, std::string>();
  auto key = std::make_pair(m.dev, m.inode);
  auto it = cache->find(key);
  if (it != cache->end()) return it->second;
  Elf elf(mapped_file(m));
  std::string id = elf.fd >= 0 ? read_build_id(elf) : "";
  if (cache->size() < 4096) (*cache)[key] = id;
  return id;
}

std::vector<std::string> function_names(const MapsLine& m, const std::string& build_id,
                                        const std::vector<uint64_t>& pcs,
                                        std::vector<uint64_t>* offsets) {
  std::vector<std::string> names(pcs.size());
  if (offsets != nullptr) offsets->assign(pcs.size(), 0);
  Elf elf(mapped_file(m));
  if (elf.fd < 0) return names;
  // Run-time address -> file offset -> link-time address, through the file's own PT_LOADs.
  std::vector<std::pair<uint64_t, size_t>> by_vaddr;  // (vaddr, index in pcs)
  for (size_t i = 0; i < pcs.size(); ++i) {
    uint64_t vaddr = 0;
    if (pcs[i] >= m.start && pcs[i] < m.limit &&
        elf.vaddr_of(pcs[i] - m.start + m.offset, &vaddr)) {
      by_vaddr.emplace_back(vaddr, i);
    }
  }
  std::sort(by_vaddr.begin(), by_vaddr.end());
  std::vector<uint64_t> vaddrs(by_vaddr.size());
  for (size_t i = 0; i < by_vaddr.size(); ++i) vaddrs[i] = by_vaddr[i].first;
  std::vector<std::string> sorted_names(vaddrs.size());
  std::vector<uint64_t> sorted_offsets(vaddrs.size());
  auto missing = [&] {
    return std::any_of(sorted_names.begin(), sorted_names.end(),
                       [](const std::string& s) { return s.empty(); });
  };
  name_from(elf, SHT_SYMTAB, vaddrs, sorted_names, sorted_offsets);
  if (missing() && build_id.size() > 2 && elf.symbols(SHT_SYMTAB, nullptr) == nullptr) {
    for (const char* dir : {config().debug_dir, "/usr/lib/debug"}) {
      if (dir[0] == '\0') continue;
      Elf debug(std::string(dir) + "/.build-id/" + build_id.substr(0, 2) + "/" +
                build_id.substr(2) + ".debug");
      if (debug.fd < 0 || read_build_id(debug) != build_id) continue;
      name_from(debug, SHT_SYMTAB, vaddrs, sorted_names, sorted_offsets);
      break;
    }
  }
  if (missing()) name_from(elf, SHT_DYNSYM, vaddrs, sorted_names, sorted_offsets);
  for (size_t i = 0; i < by_vaddr.size(); ++i) {
    names[by_vaddr[i].second] = sorted_names[i];
    if (offsets != nullptr) (*offsets)[by_vaddr[i].second] = sorted_offsets[i];
  }
  return names;
}

std::vector<std::string> function_names_anywhere(const std::vector<uint64_t>& pcs,
                                                 std::vector<uint64_t>* offsets) {
  std::vector<std::string> names(pcs.size());
  if (offsets != nullptr) offsets->assign(pcs.size(), 0);
  for (const MapsLine& m : read_maps()) {
    if (!m.exec || m.path.empty() || m.path[0] != '/') continue;
    std::vector<uint64_t> inside;
    std::vector<size_t> index;
    for (size_t i = 0; i < pcs.size(); ++i) {
      if (pcs[i] >= m.start && pcs[i] < m.limit) {
        inside.push_back(pcs[i]);
        index.push_back(i);
      }
    }
    if (inside.empty()) continue;
    std::vector<uint64_t> got_offsets;
    std::vector<std::string> got = function_names(m, build_id_of(m), inside, &got_offsets);
    for (size_t i = 0; i < got.size(); ++i) {
      names[index[i]] = std::move(got[i]);
      if (offsets != nullptr) (*offsets)[index[i]] = got_offsets[i];
    }
  }
  return names;
}

bool dl_symbol(uintptr_t addr, DlSymbol& out) {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(addr), &info) == 0) return false;
  if (info.dli_sname != nullptr && info.dli_saddr != nullptr) {
    out.name = info.dli_sname;
    out.start = reinterpret_cast<uintptr_t>(info.dli_saddr);
  }
  out.file = info.dli_fname;
  out.base = reinterpret_cast<uintptr_t>(info.dli_fbase);
  return true;
}

}  // namespace leakscope::agent
