// The pprof codec on bad input: every failure is an error with a message that says what and
// where, never a crash (the fuzzer digs deeper; these pin the messages and the cheap cases).
#include <gtest/gtest.h>

#include <string_view>

#include "core/profile/gzip.h"
#include "core/profile/pprof_codec.h"
#include "core/profile/wire.h"
#include "tests/unit/profile/profile_fixtures.h"

namespace leakscope {
namespace {

using fixtures::heap_profile;
using wire::WireWriter;

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

std::string decode_error(const std::vector<uint8_t>& bytes, DecodeOptions options = {}) {
  Result<Profile> p = decode_profile(bytes, options);
  EXPECT_FALSE(p.ok());
  return p.ok() ? "" : p.error().message;
}

TEST(CodecErrors, EmptyInput) {
  EXPECT_EQ(decode_error({}), "empty input");
  EXPECT_EQ(decode_error(gzip::deflate({})), "empty input (after gunzip)");
}

TEST(CodecErrors, NotAProfile) {
  EXPECT_NE(decode_error(bytes_of("hello, world\n")).find("malformed protobuf"), std::string::npos);
  EXPECT_EQ(decode_error(bytes_of("heap profile: 1: 2 [3: 4] @ heap/1048576\n")),
            "legacy text profile, not protobuf (fetch it with ?debug=0)");
  EXPECT_EQ(decode_error(bytes_of("goroutine profile: total 4\n")),
            "legacy text profile, not protobuf (fetch it with ?debug=0)");
  // Valid protobuf with only unknown fields: not a profile either.
  WireWriter w;
  w.uint_field(77, 1);
  EXPECT_EQ(decode_error(w.bytes()), "missing string table");
}

TEST(CodecErrors, EveryTruncationIsAnError) {
  std::vector<uint8_t> raw = encode_profile(heap_profile(), false);
  for (size_t n = 1; n < raw.size(); ++n) {
    Result<Profile> p = decode_profile({raw.data(), n});
    EXPECT_FALSE(p.ok()) << "prefix of " << n << " bytes decoded";
  }
  std::vector<uint8_t> gz = encode_profile(heap_profile());
  for (size_t n = 2; n < gz.size(); ++n) {
    Result<Profile> p = decode_profile({gz.data(), n});
    ASSERT_FALSE(p.ok()) << "gzip prefix of " << n << " bytes decoded";
  }
}

TEST(CodecErrors, TruncationMessagesNameTheByte) {
  WireWriter w;
  w.key(2, wire::kBytes);
  w.varint(50);  // a sample of 50 bytes, of which 2 are present
  w.bytes().push_back(0x08);
  w.bytes().push_back(0x80);
  EXPECT_EQ(decode_error(w.bytes()),
            "malformed protobuf: length 50 runs past the end (2 bytes left) at byte 2");
  std::vector<uint8_t> varint = {0x48, 0x80, 0x80};  // time_nanos, cut short
  EXPECT_EQ(decode_error(varint), "malformed protobuf: truncated varint at byte 1");
}

TEST(CodecErrors, CorruptBytesNeverCrash) {
  std::vector<uint8_t> raw = encode_profile(heap_profile(), false);
  for (size_t i = 0; i < raw.size(); ++i) {
    for (uint8_t v : {0x00, 0x7f, 0x80, 0xff}) {
      std::vector<uint8_t> bad = raw;
      bad[i] = v;
      Result<Profile> p = decode_profile(bad);
      if (!p.ok()) {
        EXPECT_FALSE(p.error().message.empty());
      }
    }
  }
}

// A raw profile with the given body fields and string table.
std::vector<uint8_t> with_strings(WireWriter body, std::initializer_list<const char*> strings) {
  for (const char* s : strings) body.bytes_field(6, s, strlen(s));
  return body.bytes();
}

TEST(CodecErrors, StringIndexOutOfRange) {
  WireWriter fn, body;
  fn.uint_field(1, 1);
  fn.uint_field(2, 99);
  body.message_field(5, fn);
  EXPECT_EQ(decode_error(with_strings(body, {"", "a"})),
            "function #0: name: string index 99 out of range (table has 2)");
}

TEST(CodecErrors, StringTableMustStartEmpty) {
  EXPECT_EQ(decode_error(with_strings(WireWriter(), {"x"})),
            "string_table[0] must be \"\", got a string of 1 bytes");
}

TEST(CodecErrors, DanglingReferencesAreNamedById) {
  Profile p = heap_profile();
  p.locations[1].lines[0].function_id = 9;
  EXPECT_EQ(decode_error(encode_profile(p)), "location 2: function 9 does not exist");
  p = heap_profile();
  p.samples[2].location_ids.push_back(77);
  EXPECT_EQ(decode_error(encode_profile(p)), "sample #2: location 77 does not exist");
  p = heap_profile();
  p.functions[1].id = 1;
  EXPECT_EQ(decode_error(encode_profile(p)), "multiple functions with id 1");
}

TEST(CodecErrors, WrongWireTypeForAKnownField) {
  WireWriter w;
  w.key(9, wire::kBytes);  // time_nanos is a varint
  w.varint(0);
  EXPECT_EQ(decode_error(w.bytes()),
            "malformed protobuf: field 9 has wire type 2, expected 0 at byte 1");
  WireWriter group;
  group.key(5, static_cast<wire::WireType>(3));
  EXPECT_EQ(decode_error(group.bytes()), "malformed protobuf: unknown wire type 3 at byte 0");
}

TEST(CodecErrors, ConcatenatedProfilesAreRefused) {
  std::vector<uint8_t> one = encode_profile(heap_profile(), false);
  std::vector<uint8_t> two = one;
  two.insert(two.end(), one.begin(), one.end());
  EXPECT_NE(decode_error(two).find("concatenated profiles detected"), std::string::npos);
}

TEST(CodecErrors, ZipBombIsBounded) {
  std::vector<uint8_t> zeros(16 << 20);
  std::vector<uint8_t> bomb = gzip::deflate(zeros, 9);
  ASSERT_LT(bomb.size(), 64u << 10);
  DecodeOptions small;
  small.max_inflated_bytes = 1 << 20;
  EXPECT_EQ(decode_error(bomb, small),
            "gzip: data inflates past the limit of 1048576 bytes (a zip bomb?)");
  // A lying ISIZE trailer (claims 4 GiB - 1) does not make the reader allocate it.
  bomb[bomb.size() - 4] = bomb[bomb.size() - 3] = bomb[bomb.size() - 2] = 0xff;
  bomb[bomb.size() - 1] = 0xff;
  EXPECT_NE(decode_error(bomb, small).find("zip bomb"), std::string::npos);
  // Inflation itself (no limit hit): 16 MiB of zeros come back.
  Result<gzip::Buffer> all = gzip::inflate(gzip::deflate(zeros), 32 << 20);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(all->size(), zeros.size());
}

TEST(CodecErrors, ModelMemoryIsBounded) {
  const std::string kOver =
      "the decoded profile would take more than 1000000 bytes of memory (a decompression bomb?)";
  DecodeOptions small;
  small.max_model_bytes = 1000000;
  // 1 MiB of empty samples (2 bytes each) gzips to ~1 KB and would make a 50 MB model.
  std::vector<uint8_t> raw;
  for (int i = 0; i < (1 << 19); ++i) raw.insert(raw.end(), {0x12, 0x00});
  std::vector<uint8_t> gz = gzip::deflate(raw, 9);
  ASSERT_LT(gz.size(), 4096u);
  EXPECT_EQ(decode_error(gz, small), kOver);
  // One 100 KB function name, named by 20 functions: 2 MB of copies from a 100 KB file.
  WireWriter body, fn;
  for (uint64_t i = 1; i <= 20; ++i) {
    fn.clear();
    fn.uint_field(1, i);
    fn.uint_field(2, 1);
    body.message_field(5, fn);
  }
  std::string name(100000, 'x');
  body.bytes_field(6, "", 0);
  body.bytes_field(6, name.data(), name.size());
  EXPECT_EQ(decode_error(body.bytes(), small), kOver);
  // Within the budget the same input decodes.
  small.max_model_bytes = 4000000;
  EXPECT_TRUE(decode_profile(body.bytes(), small).ok());
}

TEST(CodecErrors, GzipGarbage) {
  std::vector<uint8_t> gz = encode_profile(heap_profile());
  gz.push_back('x');
  EXPECT_NE(decode_error(gz).find("trailing garbage after the gzip stream"), std::string::npos);
  std::vector<uint8_t> header_only = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0x01, 0x02};
  EXPECT_NE(decode_error(header_only).find("gzip: "), std::string::npos);
}

TEST(CodecQuirks, LabelsWithoutValueAreDroppedLikePprof) {
  Profile p = heap_profile();
  p.samples[0].labels.push_back({"empty", "", 0, ""});
  Result<Profile> back = decode_profile(encode_profile(p));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->samples[0].labels, heap_profile().samples[0].labels);
}

TEST(CodecQuirks, MissingMappingBecomesNoMapping) {
  Profile p = heap_profile();
  p.locations[0].mapping_id = 42;
  // Our validate() refuses it, but pprof reads such files; so does decode.
  Result<Profile> back = decode_profile(encode_profile(p));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->locations[0].mapping_id, 0u);
}

}  // namespace
}  // namespace leakscope
