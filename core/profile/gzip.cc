// Inflation writes straight into one malloc'd buffer (no intermediate chunk and copy). Its
// first size is the gzip trailer's ISIZE (the uncompressed size modulo 2^32, exact for any
// single-member profile under 4 GiB), so a typical profile inflates with one allocation and no
// regrowth. ISIZE is only a hint from the input: it is believed up to deflate's largest possible
// ratio (1032:1) and up to `max_bytes`, and the buffer is never zero-filled, so a lying trailer
// costs address space, not memory. Output that would pass `max_bytes` stops the inflation at
// once: a 10 KB file that claims to expand to 100 GB costs at most max_bytes of memory.
#include "core/profile/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace leakscope::gzip {
namespace {

// zlib counts in uInt (32 bits); hand it at most this much room per call.
constexpr int64_t kMaxStep = int64_t{1} << 30;
// Deflate's best case is 258 bytes from 2 bits: about 1032:1.
constexpr int64_t kMaxRatio = 1032;

int64_t initial_capacity(std::span<const uint8_t> in, int64_t max_bytes) {
  int64_t guess = static_cast<int64_t>(in.size()) * 4;
  if (in.size() >= 18) {
    const uint8_t* t = in.data() + in.size() - 4;
    uint32_t isize = t[0] | (t[1] << 8) | (t[2] << 16) | (static_cast<uint32_t>(t[3]) << 24);
    guess = std::min<int64_t>(isize, static_cast<int64_t>(in.size()) * kMaxRatio);
  }
  return std::clamp<int64_t>(guess + 1, 4096, max_bytes + 1);
}

std::string zlib_message(const z_stream& z, int rc) {
  if (z.msg != nullptr) return z.msg;
  return "zlib error " + std::to_string(rc);
}

}  // namespace

bool is_gzip(std::span<const uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

Result<Buffer> inflate(std::span<const uint8_t> in, int64_t max_bytes) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return make_error("gzip: cannot initialise zlib");
  Buffer out;
  int64_t capacity = initial_capacity(in, max_bytes);
  out.data_.reset(static_cast<char*>(std::malloc(static_cast<size_t>(capacity))));
  const uint8_t* next = in.data();
  int64_t left = static_cast<int64_t>(in.size());
  auto fail = [&](std::string what) {
    inflateEnd(&z);
    return make_error("gzip: " + what);
  };
  auto too_big = [&] {
    return fail("data inflates past the limit of " + std::to_string(max_bytes) +
                " bytes (a zip bomb?)");
  };
  for (;;) {
    if (out.data_ == nullptr) return fail("out of memory");
    if (out.size_ == capacity) {
      if (out.size_ > max_bytes) return too_big();
      capacity = std::min(capacity * 2, max_bytes + 1);
      char* grown =
          static_cast<char*>(std::realloc(out.data_.get(), static_cast<size_t>(capacity)));
      if (grown == nullptr) return fail("out of memory");
      out.data_.release();
      out.data_.reset(grown);
    }
    z.next_in = const_cast<Bytef*>(next);
    z.avail_in = static_cast<uInt>(std::min(left, kMaxStep));
    z.next_out = reinterpret_cast<Bytef*>(out.data_.get() + out.size_);
    z.avail_out = static_cast<uInt>(std::min(capacity - out.size_, kMaxStep));
    uInt in_before = z.avail_in, out_before = z.avail_out;
    int rc = ::inflate(&z, Z_NO_FLUSH);
    next += in_before - z.avail_in;
    left -= in_before - z.avail_in;
    out.size_ += out_before - z.avail_out;
    if (out.size_ > max_bytes) return too_big();
    int64_t at = next - in.data();
    if (rc == Z_STREAM_END) {
      if (left == 0) break;
      if (!is_gzip(std::span(next, static_cast<size_t>(left)))) {
        return fail("trailing garbage after the gzip stream at byte " + std::to_string(at));
      }
      inflateReset(&z);  // another member follows
      continue;
    }
    bool stuck = in_before == z.avail_in && out_before == z.avail_out && z.avail_out > 0;
    if (rc == Z_BUF_ERROR && (left == 0 || stuck)) {
      return fail("truncated stream (" + std::to_string(in.size()) + " bytes read)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return fail(zlib_message(z, rc) + " at byte " + std::to_string(at));
    }
  }
  inflateEnd(&z);
  return out;
}

std::vector<uint8_t> deflate(std::span<const uint8_t> in, int level) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  std::vector<uint8_t> out;
  if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return out;  // only on out-of-memory
  }
  out.resize(deflateBound(&z, static_cast<uLong>(in.size())));
  // deflateBound leaves room for everything; zlib only wants its counts in 32-bit steps.
  const uint8_t* next = in.data();
  int64_t left = static_cast<int64_t>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    uInt step = static_cast<uInt>(std::min(left, kMaxStep));
    z.next_in = const_cast<Bytef*>(next);
    z.avail_in = step;
    z.next_out = out.data() + z.total_out;
    z.avail_out = static_cast<uInt>(std::min<int64_t>(out.size() - z.total_out, kMaxStep));
    rc = ::deflate(&z, left == step ? Z_FINISH : Z_NO_FLUSH);
    next += step - z.avail_in;
    left -= step - z.avail_in;
  }
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace leakscope::gzip
