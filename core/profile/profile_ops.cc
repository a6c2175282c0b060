// validate, select_sample_type, scale, and the id lookups (ProfileIndex, frames_of).
//
// validate() is pprof's CheckValid plus the string-free invariants of profile.h; decode runs it
// on every profile it returns, so everything downstream may assume that ids resolve. It names
// entities by id ("location 7: function 3 does not exist") and samples by position ("sample
// #12"), since samples have no id.
//
// frames_of() turns a sample into what people read: one frame per line of each location, leaf
// first; a location's lines are already innermost first (profile.proto), so the expansion is a
// plain walk. An unsymbolized location in a file becomes "<file base name>+0x<offset in the
// file>" (address - memory_start + file_offset: what addr2line -e <file> takes for a PIE or
// shared object, and the same in every run whatever ASLR chose); one without a file, or outside
// its mapping, stays "0x<address>" as pprof prints it.
#include "core/profile/profile_ops.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace leakscope {
namespace {

template <typename T>
Result<void> index_ids(const std::vector<T>& items, const char* kind, IdIndex& index) {
  uint64_t bad = 0;
  if (index.build(items, bad)) return {};
  if (bad == 0) return make_error(std::string("found a ") + kind + " with reserved id 0");
  return make_error(std::string("multiple ") + kind + "s with id " + std::to_string(bad));
}

Result<void> check_locations(const Profile& p, const IdIndex& mappings, const IdIndex& functions) {
  for (const Location& l : p.locations) {
    std::string where = "location " + std::to_string(l.id) + ": ";
    if (l.mapping_id != 0 && mappings.find(l.mapping_id) == IdIndex::kMissing) {
      return make_error(where + "mapping " + std::to_string(l.mapping_id) + " does not exist");
    }
    for (const Line& line : l.lines) {
      if (functions.find(line.function_id) == IdIndex::kMissing) {
        return make_error(where + "function " + std::to_string(line.function_id) +
                          " does not exist");
      }
    }
  }
  return {};
}

Result<void> check_samples(const Profile& p, const IdIndex& locations) {
  size_t types = p.sample_types.size();
  if (!p.samples.empty() && types == 0) return make_error("missing sample type information");
  for (size_t i = 0; i < p.samples.size(); ++i) {
    const Sample& s = p.samples[i];
    if (s.values.size() != types) {
      return make_error("sample #" + std::to_string(i) + ": " + std::to_string(s.values.size()) +
                        " values vs. " + std::to_string(types) + " sample types");
    }
    for (uint64_t id : s.location_ids) {
      if (locations.find(id) == IdIndex::kMissing) {
        return make_error("sample #" + std::to_string(i) + ": location " + std::to_string(id) +
                          " does not exist");
      }
    }
  }
  return {};
}

int64_t scale_value(int64_t v, double factor) {
  if (factor == -1.0) return v == std::numeric_limits<int64_t>::min() ? -(v + 1) : -v;
  double r = std::round(static_cast<double>(v) * factor);
  if (std::isnan(r)) return 0;
  // 2^63 is exactly representable; anything at or past it saturates.
  if (r >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  if (r <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(r);
}

std::string hex_address(uint64_t address) {
  char buf[24] = "0x";
  auto [end, ec] = std::to_chars(buf + 2, buf + sizeof buf, address, 16);
  return std::string(buf, end);
}

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "module+0xOFFSET" for an address inside a mapping of a file, else "0x<address>".
std::string address_name(uint64_t address, const Mapping* m, const std::string& mapping) {
  if (m == nullptr || mapping.empty() || mapping.front() == '[' || address < m->memory_start ||
      (m->memory_limit != 0 && address >= m->memory_limit))
    return hex_address(address);
  return mapping + "+" + hex_address(address - m->memory_start + m->file_offset);
}

// Lookup by id without an index: O(1) when ids are 1..N in order, O(log N) when they only
// increase (addresses as ids, in order), a scan otherwise.
template <typename T>
const T* find_by_id(const std::vector<T>& items, uint64_t id) {
  if (id != 0 && id <= items.size() && items[id - 1].id == id) return &items[id - 1];
  size_t lo = 0, hi = items.size();  // a plain bisection: harmless if ids are unordered
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (items[mid].id < id) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < items.size() && items[lo].id == id && id != 0) return &items[lo];
  for (const T& item : items) {
    if (item.id == id && id != 0) return &item;
  }
  return nullptr;
}

template <typename Lookup>
std::vector<Frame> expand(const Sample& sample, const Lookup& lookup) {
  std::vector<Frame> frames;
  frames.reserve(sample.location_ids.size());
  for (uint64_t id : sample.location_ids) {
    const Location* loc = lookup.location(id);
    if (loc == nullptr) continue;  // only in an invalid profile
    const Mapping* m = loc->mapping_id != 0 ? lookup.mapping(loc->mapping_id) : nullptr;
    std::string mapping = m != nullptr ? base_name(m->filename) : std::string();
    for (const Line& line : loc->lines) {
      Frame& f = frames.emplace_back();
      const Function* fn = lookup.function(line.function_id);
      if (fn != nullptr) {
        f.function = !fn->name.empty() ? fn->name : fn->system_name;
        f.file = fn->filename;
      }
      if (f.function.empty()) f.function = address_name(loc->address, m, mapping);
      f.line = line.line;
      f.address = loc->address;
      f.mapping = mapping;
    }
    if (loc->lines.empty()) {
      std::string name = address_name(loc->address, m, mapping);
      frames.push_back(Frame{std::move(name), "", 0, loc->address, std::move(mapping)});
    }
  }
  return frames;
}

struct ScanLookup {
  const Profile& p;
  const Location* location(uint64_t id) const { return find_by_id(p.locations, id); }
  const Function* function(uint64_t id) const { return find_by_id(p.functions, id); }
  const Mapping* mapping(uint64_t id) const { return find_by_id(p.mappings, id); }
};

}  // namespace

Result<void> validate(const Profile& p) {
  IdIndex mappings, locations, functions;
  if (auto r = index_ids(p.mappings, "mapping", mappings); !r) return r;
  if (auto r = index_ids(p.functions, "function", functions); !r) return r;
  if (auto r = index_ids(p.locations, "location", locations); !r) return r;
  if (auto r = check_locations(p, mappings, functions); !r) return r;
  return check_samples(p, locations);
}

Result<size_t> select_sample_type(const Profile& p, const std::string& type) {
  const auto& types = p.sample_types;
  if (types.empty()) return make_error("the profile has no sample types");
  if (type.empty()) {
    for (size_t i = 0; i < types.size(); ++i) {
      if (!p.default_sample_type.empty() && types[i].type == p.default_sample_type) return i;
    }
    return types.size() - 1;
  }
  size_t n = 0;
  auto [end, ec] = std::from_chars(type.data(), type.data() + type.size(), n);
  if (ec == std::errc() && end == type.data() + type.size()) {
    if (n < types.size()) return n;
    return make_error("sample index " + type + " is outside the range [0.." +
                      std::to_string(types.size() - 1) + "]");
  }
  std::string legacy = type.starts_with("inuse_") ? type.substr(6) : type;
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i].type == type || types[i].type == legacy) return i;
  }
  std::string names;
  for (const ValueType& t : types) names += (names.empty() ? "" : ", ") + t.type;
  return make_error("sample type \"" + type + "\" must be one of: " + names);
}

void scale(Profile& p, double factor) {
  if (factor == 1.0) return;
  for (Sample& s : p.samples) {
    for (int64_t& v : s.values) v = scale_value(v, factor);
  }
}

ProfileIndex::ProfileIndex(const Profile& profile) : profile_(&profile) {
  uint64_t bad;
  (void)locations_.build(profile.locations, bad);  // duplicates: the first one wins
  (void)functions_.build(profile.functions, bad);
  (void)mappings_.build(profile.mappings, bad);
}

bool is_unsymbolized_name(std::string_view name) {
  size_t at = name.starts_with("0x") ? 0 : name.rfind("+0x");
  if (at == std::string_view::npos) return false;
  std::string_view digits = name.substr(at + (at == 0 ? 2 : 3));
  return !digits.empty() && digits.find_first_not_of("0123456789abcdefABCDEF") == digits.npos;
}

bool is_unsymbolized(const Frame& frame) {
  std::string_view name = frame.function;
  if (name.empty() || (name.starts_with("0x") && is_unsymbolized_name(name))) return true;
  std::string_view module = frame.mapping;
  if (size_t slash = module.rfind('/'); slash != module.npos) module.remove_prefix(slash + 1);
  return !module.empty() && name.size() > module.size() && name.starts_with(module) &&
         name.substr(module.size()).starts_with("+0x") && is_unsymbolized_name(name);
}

std::vector<Frame> frames_of(const Profile& profile, const Sample& sample) {
  return expand(sample, ScanLookup{profile});
}

std::vector<Frame> frames_of(const ProfileIndex& index, const Sample& sample) {
  return expand(sample, index);
}

}  // namespace leakscope
