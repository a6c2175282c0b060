// Profile views: the parts of `pprof -top` that leakscope's verbs share, ported with care so
// that our numbers and pprof's agree to the byte (tests/integration/cli_go_top.sh checks it on
// real Go profiles).
//
// Totals per function. pprof (internal/graph newGraph, default "functions" granularity) keys a
// node by function name alone: file, line and address are aggregated away, and a location
// without lines becomes a node named after its mapping's file. For each sample with a non-zero
// value v: every distinct node on the stack gets cum += v once (a recursive function is not
// counted twice), and the innermost frame of the leaf location gets flat += v. The total, for
// percentages, is the sum of |v|.
//
// The hot loop is shaped for large profiles (bench/top_vs_pprof.sh: 50 MB): each location's
// nodes are resolved to small integers once, and a per-node stamp replaces a set per sample.
#include "cli/profile_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "core/profile/id_index.h"
#include "core/profile/pprof_codec.h"
#include "core/profile/profile_ops.h"
#include "core/symbolize/symbolizer.h"

namespace leakscope::cli {
namespace {

// --- units, after pprof's internal/measurement --------------------------------------------

struct Unit {
  const char* name;
  std::vector<const char*> aliases;
  double factor;
};

struct UnitType {
  std::vector<Unit> units;
  const Unit* fallback;  // pprof's defaultUnit
};

const std::vector<UnitType>& unit_types() {
  static const std::vector<UnitType>* types = [] {
    auto* t = new std::vector<UnitType>{
        {{{"B", {"b", "byte"}, 1},
          {"kB", {"kb", "kbyte", "kilobyte"}, 1024.0},
          {"MB", {"mb", "mbyte", "megabyte"}, 1024.0 * 1024},
          {"GB", {"gb", "gbyte", "gigabyte"}, 1024.0 * 1024 * 1024},
          {"TB", {"tb", "tbyte", "terabyte"}, 1024.0 * 1024 * 1024 * 1024},
          {"PB", {"pb", "pbyte", "petabyte"}, 1024.0 * 1024 * 1024 * 1024 * 1024}},
         nullptr},
        {{{"ns", {"ns", "nanosecond"}, 1},
          {"us", {"μs", "us", "microsecond"}, 1e3},
          {"ms", {"ms", "millisecond"}, 1e6},
          {"s", {"s", "sec", "second"}, 1e9},
          {"hrs", {"hour", "hr"}, 3600e9}},
         nullptr},
    };
    (*t)[0].fallback = &(*t)[0].units[0];  // B
    (*t)[1].fallback = &(*t)[1].units[3];  // s
    return t;
  }();
  return *types;
}

// pprof's sniffUnit: lower case, a plural "s" dropped from names longer than two letters.
const Unit* sniff(const UnitType& type, std::string unit) {
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() > 2 && unit.back() == 's') unit.pop_back();
  for (const Unit& u : type.units) {
    for (const char* a : u.aliases) {
      if (unit == a) return &u;
    }
  }
  return nullptr;
}

struct Scaled {
  double value;
  std::string unit;
};

// pprof's measurement.Scale: to `to` ("minimum" picks the largest unit the value reaches).
Scaled scale_value(int64_t value, const std::string& from, const std::string& to) {
  if (value < 0 && -value > 0) {
    Scaled s = scale_value(-value, from, to);
    return {-s.value, s.unit};
  }
  for (const UnitType& type : unit_types()) {
    const Unit* f = sniff(type, from);
    if (f == nullptr) continue;
    double v = static_cast<double>(value) * f->factor;
    if (to == "minimum" || to == "auto") {
      const Unit* best = nullptr;
      for (const Unit& u : type.units) {
        if ((best == nullptr || u.factor >= best->factor) && v / u.factor >= 1.0) best = &u;
      }
      if (best == nullptr) best = type.fallback;
      return {v / best->factor, best->name};
    }
    const Unit* t = sniff(type, to);
    if (t == nullptr) t = type.fallback;
    return {v / t->factor, t->name};
  }
  return {static_cast<double>(value), ""};  // counts and unknown units: plain numbers
}

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// --- function totals ------------------------------------------------------------------------

// Nodes (functions) and, per location, the nodes of its frames innermost first (CSR layout).
struct NodeTable {
  std::vector<FunctionRow> rows;
  std::vector<bool> line_from_start;  // row's line is the function's start line
  std::vector<size_t> loc_begin;      // frames of location i: [loc_begin[i], loc_begin[i+1])
  std::vector<int32_t> loc_node;
  std::vector<int64_t> loc_line;

  NodeTable(const Profile& p) {
    IdIndex functions, mappings;
    uint64_t bad = 0;
    functions.build(p.functions, bad);
    mappings.build(p.mappings, bad);
    std::unordered_map<std::string, int32_t> by_name;
    auto node = [&](const std::string& name, const Function* f) {
      auto [it, inserted] = by_name.emplace(name, static_cast<int32_t>(rows.size()));
      if (inserted) {
        rows.push_back({name, f ? f->filename : "", f ? f->start_line : 0, 0, 0, ""});
        line_from_start.push_back(f != nullptr && f->start_line != 0);
      }
      return it->second;
    };
    loc_begin.reserve(p.locations.size() + 1);
    for (const Location& loc : p.locations) {
      loc_begin.push_back(loc_node.size());
      const Function* named = nullptr;
      for (const Line& line : loc.lines) {
        int64_t fi = functions.find(line.function_id);
        const Function* f = fi == IdIndex::kMissing ? nullptr : &p.functions[fi];
        if (f != nullptr && !f->name.empty()) {
          loc_node.push_back(node(f->name, f));
          loc_line.push_back(line.line);
          named = f;
        }
      }
      if (named == nullptr) {  // pprof names such a node after its binary
        int64_t mi = mappings.find(loc.mapping_id);
        std::string file = mi == IdIndex::kMissing ? "" : p.mappings[mi].filename;
        loc_node.push_back(node(file.empty() ? "<unknown>" : "[" + base_name(file) + "]", nullptr));
        loc_line.push_back(0);
      }
    }
    loc_begin.push_back(loc_node.size());
  }
};

// For functions without a start line: the line with the largest |value| through it.
void pick_lines(NodeTable& t, const std::vector<int64_t>& loc_value) {
  std::vector<int64_t> best(t.rows.size(), -1);
  for (size_t li = 0; li + 1 < t.loc_begin.size(); ++li) {
    int64_t v = std::abs(loc_value[li]);
    for (size_t k = t.loc_begin[li]; k < t.loc_begin[li + 1]; ++k) {
      int32_t n = t.loc_node[k];
      if (t.line_from_start[n] || v <= best[n] || t.loc_line[k] == 0) continue;
      best[n] = v;
      t.rows[n].line = t.loc_line[k];
    }
  }
}

}  // namespace

Result<Profile> load_profile(const std::string& path) { return read_profile_file(path); }

std::string symbolize_for_view(Profile& profile) {
  SymbolizeStats stats;
  if (!symbolize(profile, {}, &stats).ok() || stats.resolved == stats.locations) return "";
  std::string note = std::to_string(stats.locations - stats.resolved) + " of " +
                     std::to_string(stats.locations) + " locations not symbolized";
  for (size_t i = 0; i < stats.skipped.size() && i < 2; ++i) {
    note += (i == 0 ? ": " : "; ") + stats.skipped[i];
  }
  if (stats.skipped.size() > 2) note += "; ...";
  return note;
}

Result<size_t> pick_sample_type(const Profile& profile, const std::string& name) {
  Result<size_t> index = select_sample_type(profile, name);
  if (index.ok()) return index;
  std::string have;
  for (const ValueType& t : profile.sample_types) have += (have.empty() ? "" : ", ") + t.type;
  if (profile.sample_types.empty()) return make_error("the profile has no sample types");
  return make_error("no sample type \"" + name + "\" (the profile has: " + have + ")");
}

ValueFormat::ValueFormat(const std::string& unit, int64_t smallest_nonzero, int64_t largest)
    : unit_(unit), output_("minimum") {
  int64_t lo = std::abs(smallest_nonzero), hi = std::abs(largest);
  if (lo == 0) lo = hi;
  std::string lo_unit = scale_value(lo, unit, "minimum").unit;
  std::string hi_unit = scale_value(hi, unit, "minimum").unit;
  output_ = lo_unit;
  if (lo_unit != hi_unit && lo * 100 < hi) output_ = scale_value(100 * lo, unit, "minimum").unit;
}

std::string ValueFormat::operator()(int64_t value) const {
  Scaled s = scale_value(value, unit_, output_.empty() ? "count" : output_);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", s.value);
  std::string out = buf;
  if (out.ends_with(".00")) out.resize(out.size() - 3);
  if (out == "0" || out == "-0") return "0";
  return out + s.unit;
}

std::string percentage(int64_t value, int64_t total) {
  double ratio = total != 0 ? std::fabs(static_cast<double>(value) / total) * 100 : 0;
  char buf[32];
  if (ratio >= 99.95 && ratio <= 100.05) return "  100%";
  std::snprintf(buf, sizeof buf, ratio >= 1.0 ? "%5.2f%%" : "%5.2g%%", ratio);
  return buf;
}

FunctionTotals function_totals(const Profile& profile, size_t index, bool by_cum) {
  NodeTable t(profile);
  IdIndex locations;
  uint64_t bad = 0;
  locations.build(profile.locations, bad);
  FunctionTotals out;
  std::vector<uint32_t> stamp(t.rows.size(), 0);
  // Calls into a node, as pprof's edges: from the frame it was inlined into (same location), or
  // from the innermost frame of the next location toward the root.
  std::vector<uint8_t> inlined_in(t.rows.size(), 0), called_in(t.rows.size(), 0);
  std::vector<uint8_t> loc_used(profile.locations.size(), 0);
  std::vector<int64_t> loc_value(profile.locations.size(), 0);
  uint32_t current = 0;
  for (const Sample& s : profile.samples) {
    int64_t v = index < s.values.size() ? s.values[index] : 0;
    out.total += std::abs(v);  // pprof counts samples without a stack in the total too
    if (v == 0 || s.location_ids.empty()) continue;
    ++current;
    int64_t caller = IdIndex::kMissing;  // location rootward of the current one
    for (size_t j = s.location_ids.size(); j-- > 0;) {
      int64_t li = locations.find(s.location_ids[j]);
      if (li == IdIndex::kMissing) continue;
      loc_value[li] += v;
      loc_used[li] = 1;
      if (caller != IdIndex::kMissing) {
        int32_t outer = t.loc_node[t.loc_begin[li + 1] - 1];
        if (outer != t.loc_node[t.loc_begin[caller]]) called_in[outer] = 1;
      }
      caller = li;
      for (size_t k = t.loc_begin[li]; k < t.loc_begin[li + 1]; ++k) {
        int32_t n = t.loc_node[k];
        if (stamp[n] == current) continue;
        stamp[n] = current;
        t.rows[n].cum += v;
      }
    }
    int64_t leaf = locations.find(s.location_ids[0]);
    if (leaf != IdIndex::kMissing) t.rows[t.loc_node[t.loc_begin[leaf]]].flat += v;
  }
  pick_lines(t, loc_value);
  for (size_t li = 0; li < loc_used.size(); ++li) {
    if (!loc_used[li]) continue;
    for (size_t k = t.loc_begin[li]; k + 1 < t.loc_begin[li + 1]; ++k) {
      if (t.loc_node[k] != t.loc_node[k + 1]) inlined_in[t.loc_node[k]] = 1;
    }
  }
  for (size_t n = 0; n < t.rows.size(); ++n) {
    if (inlined_in[n]) t.rows[n].inline_label = called_in[n] ? "(partial-inline)" : "(inline)";
  }
  for (FunctionRow& r : t.rows) {
    if (r.flat != 0 || r.cum != 0) out.rows.push_back(std::move(r));
  }
  std::sort(out.rows.begin(), out.rows.end(), [by_cum](const FunctionRow& a, const FunctionRow& b) {
    int64_t ka = std::abs(by_cum ? a.cum : a.flat), kb = std::abs(by_cum ? b.cum : b.flat);
    if (ka != kb) return ka > kb;
    if (a.function != b.function) return a.function < b.function;
    return std::abs(by_cum ? a.flat : a.cum) > std::abs(by_cum ? b.flat : b.cum);
  });
  return out;
}

}  // namespace leakscope::cli
