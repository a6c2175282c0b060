// Writes the seed corpus of the profile_decode fuzzer (tests/fuzz/corpus/profile_decode/):
//   profile_corpus_gen DIR
// Valid profiles in the shapes the decoder must accept (gzip'd and raw, string table first and
// last, packed and unpacked, empty), and broken ones near them (truncated, bytes flipped, a small
// zip bomb), so the fuzzer starts next to every branch. Kept small: the corpus lives in git.
#include <stdio.h>

#include <string>
#include <vector>

#include "core/profile/gzip.h"
#include "core/profile/pprof_codec.h"
#include "core/profile/wire.h"
#include "tests/unit/profile/profile_fixtures.h"

using namespace leakscope;

namespace {

bool write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return fclose(f) == 0 && ok;
}

// String table first, unpacked sample fields, unknown fields of every wire type.
std::vector<uint8_t> unusual_layout() {
  wire::WireWriter out, msg;
  for (const char* s : {"", "objects", "count", "f"}) out.bytes_field(6, s, strlen(s));
  out.uint_field(99, 1);
  out.key(100, wire::kFixed64);
  out.bytes().insert(out.bytes().end(), 8, 0xaa);
  out.key(101, wire::kFixed32);
  out.bytes().insert(out.bytes().end(), 4, 0xbb);
  msg.uint_field(1, 1);
  msg.uint_field(2, 2);
  out.message_field(1, msg);
  msg.clear();
  msg.uint_field(1, 1);
  msg.uint_field(1, 1);
  msg.int_field(2, -3);
  out.message_field(2, msg);
  msg.clear();
  msg.uint_field(1, 1);
  out.message_field(4, msg);
  return out.bytes();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: profile_corpus_gen DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  Profile heap = fixtures::heap_profile();
  std::vector<uint8_t> raw = encode_profile(heap, false);
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files = {
      {"heap.pb.gz", encode_profile(heap)},
      {"heap.pb", raw},
      {"empty_profile.pb", encode_profile(Profile{}, false)},
      {"unusual_layout.pb", unusual_layout()},
      {"truncated_raw.pb", {raw.begin(), raw.begin() + static_cast<long>(raw.size() / 2)}},
      {"zip_bomb_1mib.gz", gzip::deflate(std::vector<uint8_t>(1 << 20), 9)},
      {"legacy_text", {'h', 'e', 'a', 'p', ' ', 'p', 'r', 'o', 'f', 'i', 'l', 'e', ':'}},
  };
  std::vector<uint8_t> gz = encode_profile(heap);
  files.push_back({"truncated.pb.gz", {gz.begin(), gz.end() - 9}});
  std::vector<uint8_t> flipped = raw;
  for (size_t i = 7; i < flipped.size(); i += 29) flipped[i] ^= 0x80;
  files.push_back({"flipped.pb", flipped});
  Profile sparse = heap;  // addresses as location ids, as profile.proto allows
  for (Location& l : sparse.locations) l.id = l.address;
  for (Sample& s : sparse.samples) {
    for (uint64_t& id : s.location_ids) id = heap.locations[id - 1].address;
  }
  files.push_back({"sparse_ids.pb", encode_profile(sparse, false)});
  for (const auto& [name, bytes] : files) {
    if (!write_file(dir + "/" + name, bytes)) {
      fprintf(stderr, "profile_corpus_gen: cannot write %s/%s\n", dir.c_str(), name.c_str());
      return 1;
    }
  }
  return 0;
}
