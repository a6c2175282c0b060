// ProfileBuilder: raw-address pprof profiles with the process's mappings, so that pprof, go tool
// pprof and leakscope's symbolizer can resolve the addresses offline. The agent never reads
// DWARF (README, "The agent"): locations carry an address, a mapping and, where the file's
// symbol table has one, the name of their function (no file, no line; elf_symbols.cc says why). A
// mapping whose every location is named says has_functions (readers keep the names; pprof
// -symbolize=force and leakscope add files and lines); the others say nothing, and readers
// symbolize them.
//
// Mappings come from /proc/self/maps at finish(): every executable, file-backed mapping, with
// its path, file offset and GNU build ID (read from the file's PT_NOTE segments, cached by
// device and inode). The main executable's mapping goes first (pprof's convention). Ids are
// 1..N in vector order for mappings, locations and functions (Parca requires it).
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "agent/agent_internal.h"
#include "agent/own_fds.h"
#include "agent/profile/elf_symbols.h"
#include "core/profile/pprof_codec.h"

namespace leakscope::agent {

namespace {

std::string main_executable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return strip_deleted(std::string(buf, static_cast<size_t>(n)));
}

}  // namespace

struct ProfileBuilder::Impl {
  Profile profile;
  std::unordered_map<uint64_t, uint64_t> location_of_address;  // address - 1 -> location id
  std::unordered_map<std::string, uint64_t> location_of_name;
  std::unordered_map<std::string, uint64_t> function_of_name;  // symbol names of frames
  std::unordered_map<std::string, size_t> sample_of_key;       // stack + labels -> sample index

  uint64_t location_for_address(uint64_t address) {
    auto [it, fresh] = location_of_address.emplace(address, profile.locations.size() + 1);
    if (fresh) {
      Location loc;
      loc.id = it->second;
      loc.address = address;
      profile.locations.push_back(std::move(loc));
    }
    return it->second;
  }

  uint64_t location_for_name(const std::string& name) {
    auto [it, fresh] = location_of_name.emplace(name, profile.locations.size() + 1);
    if (fresh) {
      Location loc;
      loc.id = it->second;
      loc.lines.push_back(Line{function_for(name), 0, 0});
      profile.locations.push_back(std::move(loc));
    }
    return it->second;
  }

  void add_sample(std::vector<uint64_t> ids, const std::vector<int64_t>& values,
                  const std::vector<Label>& labels) {
    std::string key(reinterpret_cast<const char*>(ids.data()), ids.size() * sizeof(uint64_t));
    for (const Label& l : labels) {
      key += '\0' + l.key + '\0' + l.str + '\0' + std::to_string(l.num) + '\0' + l.num_unit;
    }
    auto [it, fresh] = sample_of_key.emplace(std::move(key), profile.samples.size());
    if (fresh) {
      Sample s;
      s.location_ids = std::move(ids);
      s.values = values;
      s.values.resize(profile.sample_types.size());
      s.labels = labels;
      profile.samples.push_back(std::move(s));
      return;
    }
    Sample& s = profile.samples[it->second];
    for (size_t i = 0; i < s.values.size() && i < values.size(); ++i) s.values[i] += values[i];
  }

  void attach_mappings() {
    std::vector<MapsLine> maps = read_maps();
    std::string exe = main_executable();
    std::stable_partition(maps.begin(), maps.end(), [&](const MapsLine& m) {
      return m.exec && !exe.empty() && m.path == exe;
    });
    std::vector<std::pair<const MapsLine*, uint64_t>> by_start;  // (line, mapping id)
    for (const MapsLine& m : maps) {
      if (!m.exec || m.path.empty() || m.path[0] != '/') continue;
      Mapping mapping;
      mapping.id = profile.mappings.size() + 1;
      mapping.memory_start = m.start;
      mapping.memory_limit = m.limit;
      mapping.file_offset = m.offset;
      mapping.filename = m.path;
      mapping.build_id = build_id_of(m);
      profile.mappings.push_back(std::move(mapping));
      by_start.emplace_back(&m, profile.mappings.back().id);
    }
    std::sort(by_start.begin(), by_start.end(),
              [](const auto& a, const auto& b) { return a.first->start < b.first->start; });
    for (Location& loc : profile.locations) {
      if (loc.address == 0) continue;
      auto it = std::upper_bound(
          by_start.begin(), by_start.end(), loc.address,
          [](uint64_t address, const auto& entry) { return address < entry.first->start; });
      if (it == by_start.begin()) continue;
      --it;
      if (loc.address < it->first->limit) loc.mapping_id = it->second;
    }
    for (const auto& [line, id] : by_start) name_locations(*line, id);
  }

  // Gives the locations of mapping `id` the names of their functions from the file's symbol
  // table (elf_symbols.cc says why), as lines without a line number. When every location got
  // one, the mapping says has_functions: the profile then really carries its symbols, and
  // go tool pprof must not symbolize over them (its DWARF reader, where it finds an address at
  // all, names template instances "" and the frame turns back into [prog]).
  void name_locations(const MapsLine& m, uint64_t id) {
    std::vector<Location*> locs;
    std::vector<uint64_t> pcs;
    for (Location& loc : profile.locations) {
      if (loc.mapping_id != id || !loc.lines.empty()) continue;
      locs.push_back(&loc);
      pcs.push_back(loc.address);
    }
    if (pcs.empty()) return;
    std::vector<std::string> names = function_names(m, profile.mappings[id - 1].build_id, pcs);
    bool all = true;
    for (size_t i = 0; i < locs.size(); ++i) {
      all &= !names[i].empty();
      if (!names[i].empty()) locs[i]->lines.push_back(Line{function_for(names[i]), 0, 0});
    }
    profile.mappings[id - 1].has_functions = all;
  }

  uint64_t function_for(const std::string& name) {
    auto [it, fresh] = function_of_name.emplace(name, profile.functions.size() + 1);
    if (fresh) {
      Function fn;
      fn.id = it->second;
      fn.name = name;
      fn.system_name = name;
      profile.functions.push_back(std::move(fn));
    }
    return it->second;
  }
};

ProfileBuilder::ProfileBuilder(std::vector<ValueType> sample_types, ValueType period_type,
                               int64_t period)
    : impl_(new Impl) {
  impl_->profile.sample_types = std::move(sample_types);
  impl_->profile.period_type = std::move(period_type);
  impl_->profile.period = period;
}

ProfileBuilder::~ProfileBuilder() { delete impl_; }

void ProfileBuilder::add(const uintptr_t* pcs, int n, const std::vector<int64_t>& values,
                         const std::vector<Label>& labels) {
  std::vector<uint64_t> ids;
  ids.reserve(n);
  for (int i = 0; i < n; ++i) {
    if (pcs[i] == 0) continue;
    ids.push_back(impl_->location_for_address(pcs[i] - 1));  // return address -> call site
  }
  if (ids.empty()) ids.push_back(impl_->location_for_name("[unknown stack]"));
  impl_->add_sample(std::move(ids), values, labels);
}

void ProfileBuilder::add_named(const std::string& frame, const std::vector<int64_t>& values,
                               const std::vector<Label>& labels) {
  impl_->add_sample({impl_->location_for_name(frame)}, values, labels);
}

void ProfileBuilder::set_default_sample_type(std::string type) {
  impl_->profile.default_sample_type = std::move(type);
}

void ProfileBuilder::add_comment(std::string comment) {
  impl_->profile.comments.push_back(std::move(comment));
}

Profile ProfileBuilder::finish() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  impl_->profile.time_nanos = static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  impl_->attach_mappings();
  Profile out = std::move(impl_->profile);
  impl_->profile = Profile{};
  return out;
}

std::string encode_profile_bytes(const Profile& profile) {
  std::vector<uint8_t> bytes = encode_profile(profile, true);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace leakscope::agent
