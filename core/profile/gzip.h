// gzip for profiles: bounded inflation (so a zip bomb is an error, not an OOM kill) and
// deflation at Go's runtime/pprof level (BestSpeed: profiles are written by a live process).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace leakscope::gzip {

// The default ceiling on inflated size. pprof files of real services are tens of MB; 2 GiB is
// far past any profile and well under the machine's memory.
inline constexpr int64_t kDefaultMaxInflated = int64_t{2} << 30;

// True if `bytes` starts with the gzip magic 0x1f 0x8b.
bool is_gzip(std::span<const uint8_t> bytes);

// Inflated bytes: malloc'd so that growth is a realloc (mremap for large blocks, no copy) and
// untouched capacity costs no memory.
class Buffer {
 public:
  std::string_view view() const { return {data_.get(), static_cast<size_t>(size_)}; }
  int64_t size() const { return size_; }

 private:
  friend Result<Buffer> inflate(std::span<const uint8_t>, int64_t);
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  int64_t size_ = 0;
};

// Inflates one or more concatenated gzip members (Go's reader is multistream too). Errors name
// the byte offset in the compressed input, and refuse output larger than `max_bytes`.
Result<Buffer> inflate(std::span<const uint8_t> bytes, int64_t max_bytes = kDefaultMaxInflated);

// Deflates into a single gzip member. zlib level 1 (Go's runtime/pprof uses gzip.BestSpeed).
std::vector<uint8_t> deflate(std::span<const uint8_t> bytes, int level = 1);

}  // namespace leakscope::gzip
