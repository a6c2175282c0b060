// ProfileBuilder: raw-address pprof profiles with the process's mappings, so that pprof, go tool
// pprof and leakscope's symbolizer can resolve the addresses offline. The agent never
// symbolizes (DESIGN.md): locations carry an address and a mapping, no lines, and the mappings
// say has_functions=false so every reader symbolizes them.
//
// Mappings come from /proc/self/maps at finish(): every executable, file-backed mapping, with
// its path, file offset and GNU build ID (read from the file's PT_NOTE segments, cached by
// device and inode). The main executable's mapping goes first (pprof's convention). Ids are
// 1..N in vector order for mappings, locations and functions (Parca requires it).
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "agent/agent_internal.h"
#include "agent/own_fds.h"
#include "core/profile/pprof_codec.h"

namespace leakscope::agent {

namespace {

struct MapsLine {
  uint64_t start, limit, offset, inode;
  std::string dev, path;
  bool exec;
};

std::string read_file(const char* path, size_t limit = 64 << 20) {
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

std::vector<MapsLine> read_maps() {
  std::vector<MapsLine> out;
  std::string text = read_file("/proc/self/maps");
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
    if (path_at > 0 && static_cast<size_t>(path_at) <= line.size()) m.path = line.substr(path_at);
    const std::string deleted = " (deleted)";
    if (m.path.size() > deleted.size() &&
        m.path.compare(m.path.size() - deleted.size(), deleted.size(), deleted) == 0) {
      m.path.resize(m.path.size() - deleted.size());
    }
    out.push_back(std::move(m));
  }
  return out;
}

// GNU build ID of an ELF file, as lowercase hex; "" if it has none or cannot be read.
std::string read_build_id(const std::string& path) {
  int fd = own_fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd < 0) return "";
  std::string id;
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
      eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr) &&
      eh.e_phnum < 256) {
    std::vector<Elf64_Phdr> ph(eh.e_phnum);
    size_t bytes = ph.size() * sizeof(Elf64_Phdr);
    if (pread(fd, ph.data(), bytes, static_cast<off_t>(eh.e_phoff)) ==
        static_cast<ssize_t>(bytes)) {
      for (const Elf64_Phdr& p : ph) {
        if (p.p_type != PT_NOTE || p.p_filesz > (1 << 16) || !id.empty()) continue;
        std::string notes(p.p_filesz, '\0');
        if (pread(fd, notes.data(), notes.size(), static_cast<off_t>(p.p_offset)) !=
            static_cast<ssize_t>(notes.size())) {
          continue;
        }
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
            for (size_t i = 0; i < nh.n_descsz; ++i) {
              auto b = static_cast<unsigned char>(notes[desc_at + i]);
              id += kHex[b >> 4];
              id += kHex[b & 15];
            }
            break;
          }
          at = next;
        }
      }
    }
  }
  own_fd_close(fd);
  return id;
}

// Cached by (device, inode): libraries are read once per process (agent thread only).
std::string build_id_of(const MapsLine& m) {
  static auto* cache = new std::map<std::pair<std::string, uint64_t>, std::string>();
  auto key = std::make_pair(m.dev, m.inode);
  auto it = cache->find(key);
  if (it != cache->end()) return it->second;
  std::string id = read_build_id(m.path);
  if (cache->size() < 4096) (*cache)[key] = id;
  return id;
}

std::string main_executable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  const std::string deleted = " (deleted)";
  if (path.size() > deleted.size() &&
      path.compare(path.size() - deleted.size(), deleted.size(), deleted) == 0) {
    path.resize(path.size() - deleted.size());
  }
  return path;
}

}  // namespace

struct ProfileBuilder::Impl {
  Profile profile;
  std::unordered_map<uint64_t, uint64_t> location_of_address;  // address - 1 -> location id
  std::unordered_map<std::string, uint64_t> location_of_name;
  std::unordered_map<std::string, size_t> sample_of_key;  // stack + labels -> sample index

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
      Function fn;
      fn.id = profile.functions.size() + 1;
      fn.name = name;
      fn.system_name = name;
      profile.functions.push_back(fn);
      Location loc;
      loc.id = it->second;
      loc.lines.push_back(Line{fn.id, 0, 0});
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
