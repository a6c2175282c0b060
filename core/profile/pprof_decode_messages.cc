// Pass 2 of the pprof decoder, one function per nested message: each walks its View with a
// WireReader, takes known fields (checking their wire type), skips unknown ones, and resolves
// string indices against the complete table. Errors carry the entity being decoded
// ("sample #3: ...") from Decoder::context_.
#include <string>

#include "core/profile/pprof_decoder.h"

namespace leakscope::pprof_detail {

bool Decoder::str(uint64_t index, std::string& out, const char* what) {
  if (index >= strings_.size()) {
    return fail(context_, std::string(what) + ": string index " + std::to_string(index) +
                              " out of range (table has " + std::to_string(strings_.size()) + ")");
  }
  out.assign(strings_[index]);
  return charge(static_cast<int64_t>(out.size()));
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
        if (keep && !charge(sizeof(Label))) return false;
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
      if (ok && !charge(sizeof(Line))) return false;
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

}  // namespace leakscope::pprof_detail
