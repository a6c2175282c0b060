// merge and compact, after pprof's profile/merge.go and Profile.Compact.
//
// merge() rebuilds one profile from many. Every entity of every input is given a key that says
// what it *is* rather than what it was numbered: a mapping is its binary (build id, else file
// name) with its size and file offset, not its load address, so two runs of one program under
// ASLR still share mappings; a location is its mapping and its address relative to the mapping's
// start, plus its lines; a function is its names, file and start line; a sample is its new
// location ids plus its labels in any order. Entities are keyed by exact byte strings; samples,
// the many (10^5..10^6 in a large profile), by a 64-bit hash confirmed by comparing, and input
// ids are translated through flat tables, not hash maps. The first input that brings a key defines
// the entity and its new id; later inputs are translated onto it (their addresses rebased onto the
// first mapping's start). Samples with equal keys add up, so scale(base, -1) + merge(base, new)
// is a diff in which unchanged stacks cancel out and vanish.
//
// compact() drops all-zero samples and whatever only they referenced, then renumbers mappings,
// locations and functions 1..N in their vector order (Parca requires exactly that).
#include <algorithm>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "core/profile/profile_ops.h"

namespace leakscope {
namespace {

// Keys as byte strings: fixed-width integers and length-prefixed strings, so no two different
// entities can produce the same key.
class Key {
 public:
  Key& num(uint64_t v) {
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Key& str(std::string_view s) {
    num(s.size());
    bytes_.append(s);
    return *this;
  }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

bool all_zero(const Sample& s) {
  return std::all_of(s.values.begin(), s.values.end(), [](int64_t v) { return v == 0; });
}

int64_t add_saturating(int64_t a, int64_t b) {
  int64_t r;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

std::string mapping_key(const Mapping& m) {
  constexpr uint64_t kRounding = 0x1000;  // pprof's mapsizeRounding
  uint64_t size = m.memory_limit - m.memory_start + kRounding - 1;
  size -= size % kRounding;
  return Key()
      .num(size)
      .num(m.file_offset)
      .str(m.build_id.empty() ? m.filename : m.build_id)
      .take();
}

std::string function_key(const Function& f) {
  return Key().str(f.name).str(f.system_name).str(f.filename).num(f.start_line).take();
}

// 64-bit mixing for sample keys (splitmix64's finaliser).
uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9;
  h ^= h >> 27;
  return h;
}

uint64_t label_hash(const Label& l) {
  std::hash<std::string_view> h;
  return mix(mix(mix(h(l.key), h(l.str)), static_cast<uint64_t>(l.num)), h(l.num_unit));
}

// Same labels in any order (labels are few: a quadratic compare is the cheap one).
bool same_labels(const std::vector<Label>& a, const std::vector<Label>& b) {
  if (a.size() != b.size()) return false;
  for (const Label& l : a) {
    if (std::count(a.begin(), a.end(), l) != std::count(b.begin(), b.end(), l)) return false;
  }
  return true;
}

// The new id of the entity `id` names in the input, through the input's index; 0 if none.
uint64_t translate(const IdIndex& index, const std::vector<uint64_t>& new_ids, uint64_t id) {
  int64_t i = index.find(id);
  return i == IdIndex::kMissing ? 0 : new_ids[static_cast<size_t>(i)];
}

// Old location id -> new id for one input, in one load when the input's ids are dense (the
// hot path of a merge: every frame of every sample goes through it).
class LocationMap {
 public:
  LocationMap(const Profile& src, const IdIndex& index, const std::vector<uint64_t>& new_ids)
      : index_(index), new_ids_(new_ids) {
    uint64_t max_id = 0;
    for (const Location& l : src.locations) max_id = std::max(max_id, l.id);
    if (max_id > 2 * src.locations.size() + 64) return;
    flat_.assign(max_id + 1, 0);
    for (size_t i = src.locations.size(); i-- > 0;) flat_[src.locations[i].id] = new_ids[i];
    flat_[0] = 0;
  }
  uint64_t operator()(uint64_t id) const {
    if (flat_.empty()) return translate(index_, new_ids_, id);
    return id < flat_.size() ? flat_[id] : 0;
  }

 private:
  const IdIndex& index_;
  const std::vector<uint64_t>& new_ids_;
  std::vector<uint64_t> flat_;
};

// Translates one input profile's ids into the merged profile's.
class Merger {
 public:
  explicit Merger(Profile& out) : out_(out) {}
  void add(const Profile& src);

 private:
  uint64_t intern(std::unordered_map<std::string, uint64_t>& ids, std::string key, auto& items,
                  auto item) {
    auto [it, added] = ids.try_emplace(std::move(key), items.size() + 1);
    if (added) {
      item.id = it->second;
      items.push_back(std::move(item));
    }
    return it->second;
  }
  void add_sample(const Sample& s, const LocationMap& new_location);

  Profile& out_;
  std::unordered_map<std::string, uint64_t> mappings_, functions_, locations_;
  // Sample key hash -> position in out_.samples; equal hashes are confirmed by comparing.
  std::unordered_multimap<uint64_t, size_t> samples_;
  std::vector<uint64_t> ids_;  // scratch: one sample's translated location ids
};

void Merger::add(const Profile& src) {
  IdIndex mappings, functions, locations;
  uint64_t bad;
  (void)mappings.build(src.mappings, bad);  // duplicates: the first one wins
  (void)functions.build(src.functions, bad);
  (void)locations.build(src.locations, bad);
  std::vector<uint64_t> new_mapping, new_function, new_location;
  for (const Mapping& m : src.mappings) {
    new_mapping.push_back(intern(mappings_, mapping_key(m), out_.mappings, m));
  }
  for (const Function& f : src.functions) {
    new_function.push_back(intern(functions_, function_key(f), out_.functions, f));
  }
  for (const Location& l : src.locations) {
    Location copy = l;
    copy.mapping_id = translate(mappings, new_mapping, l.mapping_id);
    uint64_t relative = l.address;
    if (copy.mapping_id != 0) {
      relative = l.address - src.mappings[mappings.find(l.mapping_id)].memory_start;
      copy.address = out_.mappings[copy.mapping_id - 1].memory_start + relative;
    }
    Key key;
    key.num(copy.mapping_id).num(relative).num(l.is_folded);
    for (Line& line : copy.lines) {
      line.function_id = translate(functions, new_function, line.function_id);
      key.num(line.function_id).num(line.line).num(line.column);
    }
    new_location.push_back(intern(locations_, key.take(), out_.locations, std::move(copy)));
  }
  samples_.reserve(samples_.size() + src.samples.size());
  LocationMap location_map(src, locations, new_location);
  for (const Sample& s : src.samples) {
    if (!all_zero(s)) add_sample(s, location_map);
  }
}

void Merger::add_sample(const Sample& s, const LocationMap& new_location) {
  ids_.clear();  // reused: most samples of a diff land on an existing one
  uint64_t hash = s.location_ids.size();
  for (uint64_t id : s.location_ids) {
    ids_.push_back(new_location(id));
    hash = mix(hash, ids_.back());
  }
  uint64_t labels = 0;  // a sum: the same for any order of the labels
  for (const Label& l : s.labels) labels += label_hash(l);
  hash = mix(hash, labels);
  auto [first, last] = samples_.equal_range(hash);
  for (auto it = first; it != last; ++it) {
    Sample& same = out_.samples[it->second];
    if (same.location_ids != ids_ || !same_labels(same.labels, s.labels)) continue;
    for (size_t i = 0; i < same.values.size() && i < s.values.size(); ++i) {
      same.values[i] = add_saturating(same.values[i], s.values[i]);
    }
    return;
  }
  samples_.emplace(hash, out_.samples.size());
  out_.samples.push_back(Sample{ids_, s.values, s.labels});
}

Result<void> check_compatible(const Profile& a, const Profile& b, size_t i) {
  if (a.sample_types != b.sample_types) {
    return make_error("profile " + std::to_string(i) + ": incompatible sample types");
  }
  if (a.period_type != b.period_type) {
    return make_error("profile " + std::to_string(i) + ": incompatible period types");
  }
  return {};
}

void merge_header(Profile& out, const Profile& src) {
  if (src.time_nanos != 0 && (out.time_nanos == 0 || src.time_nanos < out.time_nanos)) {
    out.time_nanos = src.time_nanos;
  }
  out.duration_nanos = add_saturating(out.duration_nanos, src.duration_nanos);
  out.period = std::max(out.period, src.period);
  for (const std::string& c : src.comments) {
    if (std::find(out.comments.begin(), out.comments.end(), c) == out.comments.end()) {
      out.comments.push_back(c);
    }
  }
  for (auto [to, from] : {std::pair{&out.default_sample_type, &src.default_sample_type},
                          {&out.doc_url, &src.doc_url},
                          {&out.drop_frames, &src.drop_frames},
                          {&out.keep_frames, &src.keep_frames}}) {
    if (to->empty()) *to = *from;
  }
}

}  // namespace

Result<Profile> merge(const std::vector<const Profile*>& profiles) {
  if (profiles.empty()) return make_error("merge: no profiles");
  Profile out;
  out.sample_types = profiles[0]->sample_types;
  out.period_type = profiles[0]->period_type;
  Merger merger(out);
  for (size_t i = 0; i < profiles.size(); ++i) {
    if (auto ok = check_compatible(*profiles[0], *profiles[i], i); !ok) return ok.error();
    merge_header(out, *profiles[i]);
    merger.add(*profiles[i]);
  }
  compact(out);
  return out;
}

void compact(Profile& p) {
  std::erase_if(p.samples, all_zero);
  IdIndex locations, functions, mappings;
  uint64_t bad;
  (void)locations.build(p.locations, bad);
  (void)functions.build(p.functions, bad);
  (void)mappings.build(p.mappings, bad);
  // New id per old position; 0 = unreferenced (dropped).
  std::vector<uint64_t> new_location(p.locations.size()), new_function(p.functions.size()),
      new_mapping(p.mappings.size());
  for (const Sample& s : p.samples) {
    for (uint64_t id : s.location_ids) {
      if (int64_t i = locations.find(id); i != IdIndex::kMissing) new_location[i] = 1;
    }
  }
  for (size_t i = 0; i < p.locations.size(); ++i) {
    if (new_location[i] == 0) continue;
    if (int64_t m = mappings.find(p.locations[i].mapping_id); m != IdIndex::kMissing) {
      new_mapping[m] = 1;
    }
    for (const Line& line : p.locations[i].lines) {
      if (int64_t f = functions.find(line.function_id); f != IdIndex::kMissing) new_function[f] = 1;
    }
  }
  // Keep the marked entities in order, numbering them 1..N.
  auto keep = [](auto& items, std::vector<uint64_t>& new_ids) {
    size_t n = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (new_ids[i] == 0) continue;
      new_ids[i] = n + 1;
      if (n != i) items[n] = std::move(items[i]);
      items[n].id = n + 1;
      ++n;
    }
    items.resize(n);
  };
  keep(p.mappings, new_mapping);
  keep(p.functions, new_function);
  // Translate references through the old index (positions) to the new ids.
  for (size_t i = 0; i < p.locations.size(); ++i) {
    if (new_location[i] == 0) continue;
    Location& l = p.locations[i];
    l.mapping_id = translate(mappings, new_mapping, l.mapping_id);
    for (Line& line : l.lines)
      line.function_id = translate(functions, new_function, line.function_id);
    std::erase_if(l.lines, [](const Line& line) { return line.function_id == 0; });
  }
  keep(p.locations, new_location);
  for (Sample& s : p.samples) {
    for (uint64_t& id : s.location_ids) id = translate(locations, new_location, id);
    std::erase_if(s.location_ids, [](uint64_t id) { return id == 0; });
  }
}

}  // namespace leakscope
