// pprof wire codec: gzip'd (or raw) protobuf <-> Profile. Hand-written, small, no libprotobuf,
// so the agent can link it. See pprof_decode.cc and pprof_encode.cc for
// the wire details (docs/pprof-codec.md).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/profile/profile.h"
#include "core/util/result.h"

namespace leakscope {

// Decodes a profile from bytes that are gzip'd protobuf or raw protobuf (sniffed by the gzip
// magic). Fields may come in any order (the string table may come last); unknown fields are
// skipped. Errors say what is wrong and where ("location 7: function 3 does not exist").
Result<Profile> decode_profile(std::span<const uint8_t> bytes);

struct DecodeOptions {
  // Inflated size past which gzip'd input is refused (a zip bomb is an error, not an OOM).
  int64_t max_inflated_bytes = int64_t{2} << 30;
  // Memory the decoded model may take. Protobuf is dense (an empty sample is 2 bytes, its model
  // ~100; a string is stored once but copied into every entity that names it), so a small file
  // can ask for a huge model; past this the profile is refused. A 50 MB profile needs ~0.3 GB.
  int64_t max_model_bytes = int64_t{4} << 30;
};
Result<Profile> decode_profile(std::span<const uint8_t> bytes, const DecodeOptions& options);

// Reads and decodes a file; errors are prefixed with the path.
Result<Profile> read_profile_file(const std::string& path);

// Encodes to protobuf, gzip'd unless gzip is false. Output opens in `pprof` and `go tool pprof`.
// Ids are written as they are: compact() first for Parca, which wants 1..N in order.
std::vector<uint8_t> encode_profile(const Profile& profile, bool gzip = true);

// Writes atomically (temporary file + rename), so a reader never sees half a profile.
Result<void> write_profile_file(const std::string& path, const Profile& profile);

}  // namespace leakscope
