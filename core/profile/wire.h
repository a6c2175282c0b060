// Protocol-buffer wire format, the small part pprof needs: varints, fixed 32/64-bit words and
// length-delimited byte runs (wire types 0, 1, 2 and 5). Groups (3, 4) are refused, as pprof's
// own decoder refuses them.
//
// WireReader walks one message without allocating: every length-delimited field comes back as a
// view into the caller's buffer, and a nested message is read by a WireReader over that view.
// Each reader remembers where its first byte sits in the whole buffer, so an error can name the
// absolute byte offset ("truncated varint at byte 1234"), which is what one needs to look at a
// corrupt file with a hex dump. Every read is bounds-checked; a failed read returns false and
// leaves a message in error(); callers stop at the first failure.
//
// WireWriter appends to a byte vector. Nested messages are written by the caller into a scratch
// writer and then appended with their length (one copy per message, no size pre-pass).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace leakscope::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

class WireReader {
 public:
  // `base` is the offset of data[0] in the outermost buffer, for error messages.
  WireReader(std::string_view data, int64_t base)
      : begin_(data.data()), p_(data.data()), end_(data.data() + data.size()), base_(base) {}

  bool done() const { return p_ >= end_; }
  // Absolute offset of the next unread byte.
  int64_t offset() const { return base_ + (p_ - begin_); }
  const std::string& error() const { return error_; }

  // Reads a field key; returns false at a malformed key (field 0, or a group wire type).
  bool read_key(uint32_t& field, uint32_t& wire_type) {
    int64_t at = offset();
    uint64_t key = 0;
    if (!read_varint(key)) return false;
    field = static_cast<uint32_t>(key >> 3);
    wire_type = static_cast<uint32_t>(key & 7);
    if (key >> 3 == 0 || key >> 3 > 0x1fffffff) return fail("invalid field number", at);
    if (wire_type != kVarint && wire_type != kFixed64 && wire_type != kBytes &&
        wire_type != kFixed32) {
      return fail("unknown wire type " + std::to_string(wire_type), at);
    }
    return true;
  }

  bool read_varint(uint64_t& out) {
    // Fast path: one byte, the common case for ids, indices and small values.
    if (p_ < end_ && static_cast<uint8_t>(*p_) < 0x80) {
      out = static_cast<uint8_t>(*p_++);
      return true;
    }
    uint64_t v = 0;
    const char* start = p_;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ >= end_) {
        p_ = start;
        return fail("truncated varint", offset());
      }
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        out = v;
        return true;
      }
      if (shift == 63) break;  // a tenth byte with its continuation bit set
    }
    p_ = start;
    return fail("varint longer than 10 bytes", offset());
  }

  bool read_bytes(std::string_view& out, int64_t& out_offset) {
    uint64_t n;
    if (!read_varint(n)) return false;
    if (n > static_cast<uint64_t>(end_ - p_)) {
      return fail("length " + std::to_string(n) + " runs past the end (" +
                      std::to_string(end_ - p_) + " bytes left)",
                  offset());
    }
    out_offset = offset();
    out = std::string_view(p_, n);
    p_ += n;
    return true;
  }

  // Skips a field of the given wire type (unknown fields, for forward compatibility).
  bool skip(uint32_t wire_type) {
    uint64_t v = 0;
    std::string_view s;
    int64_t at;
    switch (wire_type) {
      case kVarint:
        return read_varint(v);
      case kFixed64:
        return advance(8);
      case kFixed32:
        return advance(4);
      case kBytes:
        return read_bytes(s, at);
    }
    return fail("unknown wire type " + std::to_string(wire_type), offset());
  }

  // Takes over the error of a reader over a nested view.
  bool adopt(const WireReader& nested) {
    if (error_.empty()) error_ = nested.error_;
    return false;
  }

  bool fail(std::string what, int64_t at) {
    if (error_.empty()) error_ = what + " at byte " + std::to_string(at);
    return false;
  }

 private:
  bool advance(int64_t n) {
    if (end_ - p_ < n) return fail("truncated fixed-width field", offset());
    p_ += n;
    return true;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  int64_t base_;
  std::string error_;
};

class WireWriter {
 public:
  std::vector<uint8_t>& bytes() { return out_; }
  void clear() { out_.clear(); }

  void varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<uint8_t>(v));
  }
  void key(uint32_t field, WireType type) { varint((static_cast<uint64_t>(field) << 3) | type); }

  // proto3 scalars: zero is the default and is not written.
  void uint_field(uint32_t field, uint64_t v) {
    if (v == 0) return;
    key(field, kVarint);
    varint(v);
  }
  void int_field(uint32_t field, int64_t v) { uint_field(field, static_cast<uint64_t>(v)); }
  void bool_field(uint32_t field, bool v) { uint_field(field, v ? 1 : 0); }

  void bytes_field(uint32_t field, const void* data, size_t n) {
    key(field, kBytes);
    varint(n);
    const auto* p = static_cast<const uint8_t*>(data);
    out_.insert(out_.end(), p, p + n);
  }
  void message_field(uint32_t field, const WireWriter& nested) {
    bytes_field(field, nested.out_.data(), nested.out_.size());
  }

  // Packed repeated varints (what pprof's encoder writes).
  template <typename T>
  void packed_field(uint32_t field, const std::vector<T>& values) {
    if (values.empty()) return;
    size_t n = 0;
    for (T v : values) n += varint_size(static_cast<uint64_t>(v));
    key(field, kBytes);
    varint(n);
    for (T v : values) varint(static_cast<uint64_t>(v));
  }

  static size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }

 private:
  std::vector<uint8_t> out_;
};

}  // namespace leakscope::wire
