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
#include "core/profile/pprof_decoder.h"
#include "core/profile/profile_ops.h"

namespace leakscope {
namespace pprof_detail {

// Model bytes charged per nested message (the entity and its View), before its own contents.
constexpr int64_t kEntityCost = 128;

bool Decoder::top_field(WireReader& r, uint32_t field, uint32_t type) {
  uint64_t v = 0;
  View view;
  switch (field) {
    case 1:
      return charge(kEntityCost) && message(r, field, type, sample_types_);
    case 2:
      return charge(kEntityCost) && message(r, field, type, samples_);
    case 3:
      return charge(kEntityCost) && message(r, field, type, mappings_);
    case 4:
      return charge(kEntityCost) && message(r, field, type, locations_);
    case 5:
      return charge(kEntityCost) && message(r, field, type, functions_);
    case 6:
      if (!expect(r, field, type, wire::kBytes) || !r.read_bytes(view.bytes, view.offset)) {
        return false;
      }
      strings_.push_back(view.bytes);
      return charge(sizeof(std::string_view));
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
  if (!charge(static_cast<int64_t>(comments_.size() * sizeof(std::string)))) return false;
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

Error Decoder::over_budget() const {
  return make_error("the decoded profile would take more than " + std::to_string(max_model_bytes_) +
                    " bytes of memory (a decompression bomb?)");
}

Result<Profile> Decoder::run(std::string_view buffer, int64_t max_model_bytes) {
  budget_ = max_model_bytes_ = max_model_bytes;
  WireReader r(buffer, 0);
  uint32_t field, type;
  while (!r.done()) {
    if (!r.read_key(field, type) || !top_field(r, field, type)) {
      if (budget_ < 0) return over_budget();
      return make_error("malformed protobuf: " + r.error());
    }
  }
  if (!resolve()) return budget_ < 0 ? over_budget() : make_error(error_);
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

}  // namespace pprof_detail

using pprof_detail::Decoder;
using pprof_detail::looks_like_text_profile;

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
  return Decoder().run(buffer, options.max_model_bytes);
}

Result<Profile> decode_profile(std::span<const uint8_t> bytes) {
  return decode_profile(bytes, DecodeOptions{});
}

}  // namespace leakscope