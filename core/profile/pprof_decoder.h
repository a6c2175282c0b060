// The pprof decoder's internals, shared by pprof_decode.cc (the top-level pass, resolution,
// the entry points) and pprof_decode_messages.cc (one function per nested message). Not part
// of the library's interface: use decode_profile() (pprof_codec.h).
//
// Decoder keeps pass 1's harvest: the string table and every nested message as a View into the
// buffer (with its absolute offset, for error messages), plus the top-level scalars whose
// strings are resolved in pass 2.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/profile/profile.h"
#include "core/profile/wire.h"
#include "core/util/result.h"

namespace leakscope::pprof_detail {

using wire::WireReader;

struct View {
  std::string_view bytes;
  int64_t offset = 0;
};

class Decoder {
 public:
  // Decodes `buffer` (raw protobuf); refuses a model of more than `max_model_bytes`.
  Result<Profile> run(std::string_view buffer, int64_t max_model_bytes);

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
  template <typename T>
  bool repeated_varint(WireReader& r, uint32_t type, std::vector<T>& out);

  // Accounts for `bytes` of model memory; false once the budget is spent (then run() reports
  // the budget, whatever the caller was doing).
  bool charge(int64_t bytes) {
    budget_ -= bytes;
    return budget_ >= 0;
  }
  Error over_budget() const;

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
  int64_t budget_ = 0;
  int64_t max_model_bytes_ = 0;
};

// Reads a repeated varint field that may be packed (wire type 2) or not (wire type 0).
template <typename T>
bool Decoder::repeated_varint(WireReader& r, uint32_t type, std::vector<T>& out) {
  uint64_t v;
  if (type == wire::kVarint) {
    if (!r.read_varint(v) || !charge(sizeof(T))) return false;
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
  if (!charge(static_cast<int64_t>(count * sizeof(T)))) return false;
  if (out.size() + count > out.capacity()) {  // geometric, in case a field comes in many runs
    out.reserve(std::max(out.size() + count, 2 * out.capacity()));
  }
  WireReader pr(packed, at);
  while (!pr.done()) {
    if (!pr.read_varint(v)) return r.adopt(pr);
    out.push_back(static_cast<T>(v));
  }
  return true;
}

// Checks the wire type of a known field; a mismatch is corruption, not an unknown field.
inline bool expect(WireReader& r, uint32_t field, uint32_t type, uint32_t want) {
  if (type == want) return true;
  return r.fail("field " + std::to_string(field) + " has wire type " + std::to_string(type) +
                    ", expected " + std::to_string(want),
                r.offset());
}

inline bool scalar(WireReader& r, uint32_t field, uint32_t type, uint64_t& out) {
  return expect(r, field, type, wire::kVarint) && r.read_varint(out);
}

inline bool message(WireReader& r, uint32_t field, uint32_t type, std::vector<View>& out) {
  View v;
  if (!expect(r, field, type, wire::kBytes) || !r.read_bytes(v.bytes, v.offset)) return false;
  out.push_back(v);
  return true;
}

}  // namespace leakscope::pprof_detail
