// Symbolizer: which file a mapping came from, and how its locations get lines.
//
// Finding the file. A mapping names a path and, when the agent (or Go) could read it, the GNU
// build ID of the file that was mapped. In order:
//   1. the path itself (a " (deleted)" suffix from /proc/PID/maps removed), if it exists and
//      its build ID matches the mapping's when both are known: a rebuilt binary at the same path
//      must not lend its symbols to an old profile;
//   2. <debug dir>/.build-id/xx/yyyy.debug for each debug dir: Debian's -dbgsym packages put
//      full debug files there, with the program headers and symbol table we need.
// Pseudo-files ("[vdso]", "//anon", "/memfd:...") are never looked for. libdwfl then finds
// separate DWARF for the chosen file on its own (.gnu_debuglink, build-id directories).
//
// Applying. Each location of a usable mapping whose lines are empty (or all of them, with
// force) is resolved at  vaddr = PT_LOAD(address - memory_start + file_offset)  and gets one
// Line per frame, innermost first, as profile.proto wants. Functions are shared by (name,
// system_name, filename, start_line), including with functions the profile already had. A
// mapping's has_* flags are set only for what it really got, or pprof would believe symbols that
// are not there (and, the other way round, re-symbolize over ours if they were left false).
#include "core/symbolize/symbolizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <tuple>

#include "core/symbolize/demangle.h"

namespace leakscope {

struct Symbolizer::CachedModule {
  std::unique_ptr<ElfModule> module;  // null when the file could not be used
  std::string why;                    // why not, when module is null
  std::unordered_map<uint64_t, Resolution> by_vaddr;
};

namespace {

bool is_pseudo_file(const std::string& name) {
  return name.empty() || name[0] == '[' || name.starts_with("linux-vdso") ||
         name.starts_with("//anon") || name.starts_with("/memfd:") || name.starts_with("/dev/") ||
         name.starts_with("anon_inode:");
}

std::string strip_deleted(std::string path) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.ends_with(kDeleted)) path.resize(path.size() - kDeleted.size());
  return path;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A key that changes when the file at `path` is replaced.
std::string file_key(const std::string& path, const std::string& build_id) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return path + '\0' + build_id + '\0' + std::to_string(st.st_ino) + ':' +
         std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec);
}

using FunctionKey = std::tuple<std::string, std::string, std::string, int64_t>;

// Interns functions by (name, system_name, filename, start_line), reusing the profile's own.
class FunctionTable {
 public:
  explicit FunctionTable(Profile& profile) : profile_(profile) {
    for (const Function& f : profile.functions) {
      ids_.emplace(FunctionKey{f.name, f.system_name, f.filename, f.start_line}, f.id);
      next_id_ = std::max(next_id_, f.id + 1);
    }
  }

  uint64_t intern(const ResolvedFrame& frame) {
    FunctionKey key{frame.name, frame.system_name, frame.filename, frame.start_line};
    auto [it, inserted] = ids_.emplace(key, next_id_);
    if (inserted) {
      profile_.functions.push_back(
          {next_id_, frame.name, frame.system_name, frame.filename, frame.start_line});
      ++next_id_;
    }
    return it->second;
  }

 private:
  Profile& profile_;
  std::map<FunctionKey, uint64_t> ids_;
  uint64_t next_id_ = 1;
};

}  // namespace

Symbolizer::Symbolizer(SymbolizeOptions options) : options_(std::move(options)) {
  debuginfo_path_ = ":.debug";
  for (const std::string& dir : options_.debug_dirs) debuginfo_path_ += ":" + dir;
}

Symbolizer::~Symbolizer() = default;

Symbolizer::CachedModule* Symbolizer::open_cached(const std::string& path,
                                                  const std::string& build_id, std::string& why) {
  std::string key = file_key(path, build_id);
  if (key.empty()) {
    why = path + ": no such file";
    return nullptr;
  }
  auto& slot = cache_[key];
  if (!slot) {
    slot = std::make_unique<CachedModule>();
    auto opened = ElfModule::open(path, debuginfo_path_);
    if (!opened.ok()) {
      slot->why = opened.error().message;
    } else if (!build_id.empty() && !(*opened)->build_id().empty() &&
               lower(build_id) != (*opened)->build_id()) {
      slot->why = path + ": build ID " + (*opened)->build_id() + " does not match the profile's " +
                  lower(build_id);
    } else {
      slot->module = std::move(opened).value();
    }
  }
  why = slot->why;
  return slot->module ? slot.get() : nullptr;
}

Symbolizer::CachedModule* Symbolizer::module_for(const Mapping& mapping, std::string& why) {
  std::string path = strip_deleted(mapping.filename);
  if (CachedModule* m = open_cached(path, mapping.build_id, why)) return m;
  std::string first_why = why;
  if (mapping.build_id.size() > 2) {
    std::string id = lower(mapping.build_id);
    for (const std::string& dir : options_.debug_dirs) {
      std::string debug = dir + "/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
      if (CachedModule* m = open_cached(debug, mapping.build_id, why)) return m;
      if (!why.ends_with("no such file")) first_why += "; " + why;
    }
  }
  why = first_why;
  return nullptr;
}

bool Symbolizer::needs_symbols(const Location& loc) const {
  return options_.force ||
         std::all_of(loc.lines.begin(), loc.lines.end(), [](const Line& l) { return l.line == 0; });
}

Result<void> Symbolizer::symbolize(Profile& profile, SymbolizeStats* stats) {
  SymbolizeStats local;
  SymbolizeStats& st = stats ? *stats : local;
  FunctionTable functions(profile);
  for (Mapping& mapping : profile.mappings) {
    if (is_pseudo_file(mapping.filename)) continue;
    // A mapping that claims symbols is kept, unless all it has are names without line
    // numbers (the agent's, from symbol tables), which DWARF improves on.
    bool names_only = false, with_lines = false;
    for (const Location& l : profile.locations) {
      if (l.mapping_id != mapping.id || l.lines.empty()) continue;
      names_only = true;
      with_lines |= !needs_symbols(l);
    }
    if (mapping.has_functions && !options_.force && (!names_only || with_lines)) continue;
    bool any_needed = std::any_of(
        profile.locations.begin(), profile.locations.end(),
        [&](const Location& l) { return l.mapping_id == mapping.id && needs_symbols(l); });
    if (!any_needed) continue;
    std::string why;
    CachedModule* cached = module_for(mapping, why);
    bool got_functions = false, got_lines = false, got_dwarf = false;
    for (Location& loc : profile.locations) {
      if (loc.mapping_id != mapping.id || !needs_symbols(loc)) continue;
      ++st.locations;
      if (cached == nullptr || loc.address < mapping.memory_start) continue;
      auto vaddr =
          cached->module->to_vaddr(loc.address - mapping.memory_start, mapping.file_offset);
      if (!vaddr) continue;
      auto it = cached->by_vaddr.find(*vaddr);
      if (it == cached->by_vaddr.end()) {
        it = cached->by_vaddr.emplace(*vaddr, cached->module->resolve(*vaddr)).first;
      }
      const Resolution& r = it->second;
      if (r.frames.empty()) continue;
      loc.lines.clear();
      for (const ResolvedFrame& frame : r.frames) {
        loc.lines.push_back({functions.intern(frame), frame.line, 0});
        got_lines |= frame.line != 0;
      }
      got_functions = true;
      got_dwarf |= r.from_dwarf;
      ++st.resolved;
    }
    if (cached == nullptr) st.skipped.push_back(why);
    mapping.has_functions |= got_functions;
    mapping.has_filenames |= got_dwarf;
    mapping.has_line_numbers |= got_lines;
    mapping.has_inline_frames |= got_dwarf;
  }
  // Names the profile brought that no binary improved on (the agent's, from symbol tables,
  // as the linker spells them): demangled, as pprof does.
  for (Function& f : profile.functions) {
    if (f.name == f.system_name && (f.name.starts_with("_Z") || f.name.starts_with("_R"))) {
      f.name = demangle(f.system_name);
    }
  }
  return {};
}

Result<void> symbolize(Profile& profile, const SymbolizeOptions& options, SymbolizeStats* stats) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Symbolizer>> by_options;
  std::string key = options.force ? "force" : "";
  for (const std::string& dir : options.debug_dirs) key += '\0' + dir;
  std::lock_guard<std::mutex> lock(mu);
  auto& s = by_options[key];
  if (!s) s = std::make_unique<Symbolizer>(options);
  return s->symbolize(profile, stats);
}

}  // namespace leakscope
