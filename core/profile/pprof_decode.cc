// Decoding pprof: bytes -> Profile, in two passes over one buffer.
//
// Pass 1 walks the top-level Profile message once. Scalars are taken as they come; the string
// table is collected as views into the buffer; every nested message (sample, mapping, location,
// function, the value types) is only remembered as a view. Nothing is resolved yet, because
// profile.proto lets fields come in any order and Go's runtime writes the string table last.
// Pass 2 decodes the remembered messages with the complete string table at hand, straight into
// the model: each entity is allocated once, at its final size (packed repeated fields are
// counted before the vector is reserved), and strings are copied out of the buffer only when
// they land in the model. Then the result is checked with validate(), as pprof runs CheckValid
// after every parse.
//
// Errors say where: "sample #12: truncated varint at byte 1234" ('#' = position in the file, 0
// based), "function #3: name: string index 99 out of range (table has 12)", and after the parse
// the invariants by id: "location 7: function 3 does not exist".
//
// Deliberate copies of pprof's reader (profile/encode.go): unknown fields are skipped by wire
// type; repeated scalars are accepted packed or not; a second time_nanos means two profiles were
// concatenated and is an error; a label with neither a string nor a number nor a unit is dropped;
// a location naming a mapping that does not exist gets mapping 0 instead of an error.
#include <string>
#include <string_view>
#include <vector>

#include "core/profile/gzip.h"
#include "core/profile/id_index.h"
#include "core/profile/pprof_codec.h"
#include "core/profile/profile_ops.h"
#include "core/profile/wire.h"

namespace leakscope {
namespace {

using wire::WireReader;

struct View {
  std::string_view bytes;
  int64_t offset = 0;
};

class Decoder {
 public:
  Result<Profile> run(std::string_view buffer);

 private:
  bool top_field(WireReader& r, uint32_t field, uint32_t type);
  bool resolve();
  bool value_type(const View& v, ValueType& out, const std::string& what);
  bool sample(const View& v, Sample& out);
  bool label(const View& v, Label& out, bool& keep);
  bool mapping(const View& v, Mapping& out);
  bool location(const View& v, Location& out);
  bool function(const View& v, Function& out);
  bool str(uint64_t index, std::string& out, const char* what);

  bool fail(const std::string& context, const std::string& what) {
    error_ = context.empty() ? what : context + ": " + what;
    return false;
  }

  std::vector<std::string_view> strings_;
  std::vector<View> sample_types_, samples_, mappings_, locations_, functions_;
  View period_type_;
  uint64_t drop_frames_ = 0, keep_frames_ = 0, default_sample_type_ = 0, doc_url_ = 0;
  std::vector<uint64_t> comments_;
  bool seen_time_ = false;
  Profile p_;
  std::string context_;  // the entity being decoded, for error messages
  std::string error_;
};

// Reads a repeated varint field that may be packed (wire type 2) or not (wire type 0).
template <typename T>
bool repeated_varint(WireReader& r, uint32_t type, std::vector<T>& out) {
  uint64_t v;
  if (type == wire::kVarint) {
    if (!r.read_varint(v)) return false;
    out.push_back(static_cast<T>(v));
    return true;
  }
  if (type != wire::kBytes)
    return r.fail("repeated varint with wire type " + std::to_string(type), r.offset());
  std::string_view packed;
  int64_t at;
  if (!r.read_bytes(packed, at)) return false;
  size_t count = 0;  // every varint ends in exactly one byte below 0x80
  for (char c : packed) count += static_cast<uint8_t>(c) < 0x80;
  out.reserve(out.size() + count);
  WireReader pr(packed, at);
  while (!pr.done()) {
    if (!pr.read_varint(v)) return r.adopt(pr);
    out.push_back(static_cast<T>(v));
  }
  return true;
}

// Checks the wire type of a known field; a mismatch is corruption, not an unknown field.
bool expect(WireReader& r, uint32_t field, uint32_t type, uint32_t want) {
  if (type == want) return true;
  return r.fail("field " + std::to_string(field) + " has wire type " + std::to_string(type) +
                    ", expected " + std::to_string(want),
                r.offset());
}

bool scalar(WireReader& r, uint32_t field, uint32_t type, uint64_t& out) {
  return expect(r, field, type, wire::kVarint) && r.read_varint(out);
}

bool message(WireReader& r, uint32_t field, uint32_t type, std::vector<View>& out) {
  View v;
  if (!expect(r, field, type, wire::kBytes) || !r.read_bytes(v.bytes, v.offset)) return false;
  out.push_back(v);
  return true;
}

bool Decoder::top_field(WireReader& r, uint32_t field, uint32_t type) {
  uint64_t v = 0;
  View view;
  switch (field) {
    case 1:
      return message(r, field, type, sample_types_);
    case 2:
      return message(r, field, type, samples_);
    case 3:
      return message(r, field, type, mappings_);
    case 4:
      return message(r, field, type, locations_);
    case 5:
      return message(r, field, type, functions_);
    case 6:
      if (!expect(r, field, type, wire::kBytes) || !r.read_bytes(view.bytes, view.offset)) {
        return false;
      }
      strings_.push_back(view.bytes);
      return true;
    case 7:
      return scalar(r, field, type, drop_frames_);
    case 8:
      return scalar(r, field, type, keep_frames_);
    case 9:
      if (seen_time_)
        return r.fail("concatenated profiles detected (time_nanos twice)", r.offset());
      seen_time_ = true;
      if (!scalar(r, field, type, v)) return false;
      p_.time_nanos = static_cast<int64_t>(v);
      return true;
    case 10:
      if (!scalar(r, field, type, v)) return false;
      p_.duration_nanos = static_cast<int64_t>(v);
      return true;
    case 11:
      if (!expect(r, field, type, wire::kBytes)) return false;
      return r.read_bytes(period_type_.bytes, period_type_.offset);
    case 12:
      if (!scalar(r, field, type, v)) return false;
      p_.period = static_cast<int64_t>(v);
      return true;
    case 13:
      return repeated_varint(r, type, comments_);
    case 14:
      return scalar(r, field, type, default_sample_type_);
    case 15:
      return scalar(r, field, type, doc_url_);
    default:
      return r.skip(type);
  }
}

bool Decoder::str(uint64_t index, std::string& out, const char* what) {
  if (index >= strings_.size()) {
    return fail(context_, std::string(what) + ": string index " + std::to_string(index) +
                              " out of range (table has " + std::to_string(strings_.size()) + ")");
  }
  out.assign(strings_[index]);
  return true;
}

bool Decoder::value_type(const View& v, ValueType& out, const std::string& what) {
  context_ = what;
  WireReader r(v.bytes, v.offset);
  uint64_t type = 0, unit = 0;
  uint32_t field, wt;
  while (!r.done()) {
    if (!r.read_key(field, wt)) return fail(context_, r.error());
    bool ok = field == 1   ? scalar(r, field, wt, type)
              : field == 2 ? scalar(r, field, wt, unit)
                           : r.skip(wt);
    if (!ok) return fail(context_, r.error());
  }
  return str(type, out.type, "type") && str(unit, out.unit, "unit");
}

bool Decoder::label(const View& v, Label& out, bool& keep) {
  WireReader r(v.bytes, v.offset);
  uint64_t key = 0, s = 0, num = 0, unit = 0;
  uint32_t field, wt;
  while (!r.done()) {
    if (!r.read_key(field, wt)) return fail(context_, r.error());
    bool ok = field == 1   ? scalar(r, field, wt, key)
              : field == 2 ? scalar(r, field, wt, s)
              : field == 3 ? scalar(r, field, wt, num)
              : field == 4 ? scalar(r, field, wt, unit)
                           : r.skip(wt);
    if (!ok) return fail(context_, r.error());
  }
  out.num = static_cast<int64_t>(num);
  if (!str(key, out.key, "label key") || !str(s, out.str, "label str") ||
      !str(unit, out.num_unit, "label num_unit")) {
    return false;
  }
  // pprof drops the rest (it tests the indices; we test the strings, so a string table with a
  // second "" cannot make a label that our own encoder would then drop).
  keep = !out.str.empty() || out.num != 0 || !out.num_unit.empty();
  return true;
}

bool Decoder::sample(const View& v, Sample& out) {
  WireReader r(v.bytes, v.offset);
  uint32_t field, wt;
  View lv;
  while (!r.done()) {
    if (!r.read_key(field, wt)) return fail(context_, r.error());
    bool ok = true;
    if (field == 1) {
      ok = repeated_varint(r, wt, out.location_ids);
    } else if (field == 2) {
      ok = repeated_varint(r, wt, out.values);
    } else if (field == 3) {
      ok = expect(r, field, wt, wire::kBytes) && r.read_bytes(lv.bytes, lv.offset);
      if (ok) {
        Label l;
        bool keep = false;
        if (!label(lv, l, keep)) return false;
        if (keep) out.labels.push_back(std::move(l));
      }
    } else {
      ok = r.skip(wt);
    }
    if (!ok) return fail(context_, r.error());
  }
  return true;
}

bool Decoder::mapping(const View& v, Mapping& out) {
  WireReader r(v.bytes, v.offset);
  uint64_t x[11] = {};  // by field number
  uint32_t field, wt;
  while (!r.done()) {
    if (!r.read_key(field, wt)) return fail(context_, r.error());
    bool ok = field >= 1 && field <= 10 ? scalar(r, field, wt, x[field]) : r.skip(wt);
    if (!ok) return fail(context_, r.error());
  }
  out.id = x[1];
  out.memory_start = x[2];
  out.memory_limit = x[3];
  out.file_offset = x[4];
  out.has_functions = x[7] != 0;
  out.has_filenames = x[8] != 0;
  out.has_line_numbers = x[9] != 0;
  out.has_inline_frames = x[10] != 0;
  return str(x[5], out.filename, "filename") && str(x[6], out.build_id, "build_id");
}

bool Decoder::location(const View& v, Location& out) {
  WireReader r(v.bytes, v.offset);
  uint32_t field, wt;
  uint64_t folded = 0;
  View lv;
  while (!r.done()) {
    if (!r.read_key(field, wt)) return fail(context_, r.error());
    bool ok = true;
    if (field == 1) {
      ok = scalar(r, field, wt, out.id);
    } else if (field == 2) {
      ok = scalar(r, field, wt, out.mapping_id);
    } else if (field == 3) {
      ok = scalar(r, field, wt, out.address);
    } else if (field == 5) {
      ok = scalar(r, field, wt, folded);
    } else if (field == 4) {
      ok = expect(r, field, wt, wire::kBytes) && r.read_bytes(lv.bytes, lv.offset);
      Line& line = out.lines.emplace_back();
      WireReader lr(lv.bytes, lv.offset);
      uint64_t x[4] = {};
      while (ok && !lr.done()) {
        ok = lr.read_key(field, wt) &&
             (field >= 1 && field <= 3 ? scalar(lr, field, wt, x[field]) : lr.skip(wt));
        if (!ok) r.adopt(lr);
      }
      line.function_id = x[1];
      line.line = static_cast<int64_t>(x[2]);
      line.column = static_cast<int64_t>(x[3]);
    } else {
      ok = r.skip(wt);
    }
    if (!ok) return fail(context_, r.error());
  }
  out.is_folded = folded != 0;
  return true;
}

bool Decoder::function(const View& v, Function& out) {
  WireReader r(v.bytes, v.offset);
  uint64_t x[6] = {};
  uint32_t field, wt;
  while (!r.done()) {
    if (!r.read_key(field, wt)) return fail(context_, r.error());
    bool ok = field >= 1 && field <= 5 ? scalar(r, field, wt, x[field]) : r.skip(wt);
    if (!ok) return fail(context_, r.error());
  }
  out.id = x[1];
  out.start_line = static_cast<int64_t>(x[5]);
  return str(x[2], out.name, "name") && str(x[3], out.system_name, "system_name") &&
         str(x[4], out.filename, "filename");
}

// Pass 2: everything that needs the string table.
bool Decoder::resolve() {
  if (strings_.empty()) return fail("", "missing string table");
  if (!strings_[0].empty()) {
    return fail("", "string_table[0] must be \"\", got a string of " +
                        std::to_string(strings_[0].size()) + " bytes");
  }
  p_.sample_types.resize(sample_types_.size());
  for (size_t i = 0; i < sample_types_.size(); ++i) {
    if (!value_type(sample_types_[i], p_.sample_types[i], "sample_type #" + std::to_string(i))) {
      return false;
    }
  }
  if (!value_type(period_type_, p_.period_type, "period_type")) return false;
  context_.clear();
  if (!str(drop_frames_, p_.drop_frames, "drop_frames") ||
      !str(keep_frames_, p_.keep_frames, "keep_frames") ||
      !str(default_sample_type_, p_.default_sample_type, "default_sample_type") ||
      !str(doc_url_, p_.doc_url, "doc_url")) {
    return false;
  }
  p_.comments.resize(comments_.size());
  for (size_t i = 0; i < comments_.size(); ++i) {
    if (!str(comments_[i], p_.comments[i], "comment")) return false;
  }
  auto each = [this](const std::vector<View>& views, auto& items, const char* kind, auto decode) {
    items.resize(views.size());
    for (size_t i = 0; i < views.size(); ++i) {
      context_ = std::string(kind) + " #" + std::to_string(i);
      if (!(this->*decode)(views[i], items[i])) return false;
    }
    return true;
  };
  return each(mappings_, p_.mappings, "mapping", &Decoder::mapping) &&
         each(functions_, p_.functions, "function", &Decoder::function) &&
         each(locations_, p_.locations, "location", &Decoder::location) &&
         each(samples_, p_.samples, "sample", &Decoder::sample);
}

Result<Profile> Decoder::run(std::string_view buffer) {
  WireReader r(buffer, 0);
  uint32_t field, type;
  while (!r.done()) {
    if (!r.read_key(field, type) || !top_field(r, field, type)) {
      return make_error("malformed protobuf: " + r.error());
    }
  }
  if (!resolve()) return make_error(error_);
  // pprof: a location whose mapping does not exist simply has no mapping.
  IdIndex mappings;
  uint64_t bad = 0;
  if (mappings.build(p_.mappings, bad)) {
    for (Location& l : p_.locations) {
      if (mappings.find(l.mapping_id) == IdIndex::kMissing) l.mapping_id = 0;
    }
  }
  if (Result<void> ok = validate(p_); !ok) return ok.error();
  return std::move(p_);
}

// pprof's legacy text formats start with a recognisable line; say so instead of a wire error.
bool looks_like_text_profile(std::string_view s) {
  for (std::string_view prefix :
       {"heap profile:", "--- heapz", "--- contention",
        "goroutine profile:", "threadcreate profile:", "--- mutex", "--- threadz"}) {
    if (s.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

}  // namespace

Result<Profile> decode_profile(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (bytes.empty()) return make_error("empty input");
  gzip::Buffer inflated;
  std::string_view buffer(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (gzip::is_gzip(bytes)) {
    Result<gzip::Buffer> r = gzip::inflate(bytes, options.max_inflated_bytes);
    if (!r) return r.error();
    inflated = std::move(*r);
    buffer = inflated.view();
    if (buffer.empty()) return make_error("empty input (after gunzip)");
  }
  if (looks_like_text_profile(buffer)) {
    return make_error("legacy text profile, not protobuf (fetch it with ?debug=0)");
  }
  return Decoder().run(buffer);
}

Result<Profile> decode_profile(std::span<const uint8_t> bytes) {
  return decode_profile(bytes, DecodeOptions{});
}

}  // namespace leakscope
