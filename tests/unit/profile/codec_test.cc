// The pprof codec on well-formed input: round trips, field order, packing, unknown fields,
// gzip framing, real Go output, file I/O, and what `go tool pprof` makes of our output.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "core/profile/gzip.h"
#include "core/profile/pprof_codec.h"
#include "core/profile/profile_ops.h"
#include "core/profile/wire.h"
#include "tests/unit/profile/profile_fixtures.h"

namespace leakscope {
namespace {

using fixtures::heap_profile;
using wire::WireWriter;

Profile decode_ok(const std::vector<uint8_t>& bytes) {
  Result<Profile> p = decode_profile(bytes);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? std::move(*p) : Profile{};
}

TEST(Codec, RoundTripsGzipped) {
  std::vector<uint8_t> bytes = encode_profile(heap_profile());
  ASSERT_TRUE(gzip::is_gzip(bytes));
  EXPECT_EQ(decode_ok(bytes), heap_profile());
}

TEST(Codec, RoundTripsRawAndNegativeValues) {
  Profile p = heap_profile();
  scale(p, -1);
  p.default_sample_type = "alloc_space";
  p.doc_url = "https://example.com/doc";
  p.keep_frames = "keep";
  p.duration_nanos = 5;
  std::vector<uint8_t> bytes = encode_profile(p, false);
  ASSERT_FALSE(gzip::is_gzip(bytes));
  EXPECT_EQ(decode_ok(bytes), p);
}

TEST(Codec, RoundTripsEmptyProfile) { EXPECT_EQ(decode_ok(encode_profile(Profile{})), Profile{}); }

TEST(Codec, StringTableStartsEmptyAndHasNoDuplicates) {
  std::vector<uint8_t> bytes = encode_profile(heap_profile(), false);
  wire::WireReader r({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, 0);
  std::vector<std::string> strings;
  uint32_t field, type;
  while (!r.done()) {
    ASSERT_TRUE(r.read_key(field, type)) << r.error();
    std::string_view s;
    int64_t at;
    if (field == 6) {
      ASSERT_TRUE(r.read_bytes(s, at));
      strings.emplace_back(s);
    } else {
      ASSERT_TRUE(r.skip(type));
    }
  }
  ASSERT_FALSE(strings.empty());
  EXPECT_EQ(strings[0], "");
  EXPECT_EQ(std::set<std::string>(strings.begin(), strings.end()).size(), strings.size());
}

// A profile written by hand: one sample, one location, one function, with the string table
// first or last, sample fields packed or not, and unknown fields of every wire type.
std::vector<uint8_t> hand_profile(bool strings_first, bool packed, bool unknown) {
  WireWriter out, msg, line;
  auto strings = [&] {
    for (const char* s : {"", "objects", "count", "f", "file.cc"}) out.bytes_field(6, s, strlen(s));
  };
  auto unknowns = [&](WireWriter& w) {
    if (!unknown) return;
    w.uint_field(99, 7);
    w.key(100, wire::kFixed64);
    for (int i = 0; i < 8; ++i) w.bytes().push_back(0xee);
    w.key(101, wire::kFixed32);
    for (int i = 0; i < 4; ++i) w.bytes().push_back(0xee);
    w.bytes_field(102, "junk", 4);
  };
  if (strings_first) strings();
  unknowns(out);
  msg.uint_field(1, 1);
  msg.uint_field(2, 2);
  out.message_field(1, msg);
  msg.clear();
  if (packed) {
    msg.packed_field(1, std::vector<uint64_t>{7, 7});
    msg.packed_field(2, std::vector<int64_t>{-5});
  } else {
    msg.uint_field(1, 7);
    unknowns(msg);
    msg.uint_field(1, 7);
    msg.int_field(2, -5);
  }
  out.message_field(2, msg);
  msg.clear();
  msg.uint_field(1, 7);
  msg.uint_field(3, 0x1234);
  line.uint_field(1, 3);
  line.uint_field(2, 42);
  unknowns(line);
  msg.message_field(4, line);
  unknowns(msg);
  out.message_field(4, msg);
  msg.clear();
  msg.uint_field(1, 3);
  msg.uint_field(2, 3);
  msg.uint_field(4, 4);
  out.message_field(5, msg);
  if (!strings_first) strings();
  return out.bytes();
}

TEST(Codec, AcceptsAnyFieldOrderPackingAndUnknownFields) {
  Profile want;
  want.sample_types = {{"objects", "count"}};
  want.samples = {{{7, 7}, {-5}, {}}};
  want.locations = {{7, 0, 0x1234, {{3, 42, 0}}, false}};
  want.functions = {{3, "f", "", "file.cc", 0}};
  for (bool first : {true, false}) {
    for (bool packed : {true, false}) {
      for (bool unknown : {true, false}) {
        SCOPED_TRACE(::testing::Message() << first << packed << unknown);
        EXPECT_EQ(decode_ok(hand_profile(first, packed, unknown)), want);
        EXPECT_EQ(decode_ok(gzip::deflate(hand_profile(first, packed, unknown))), want);
      }
    }
  }
}

TEST(Codec, DecodesGoRuntimeHeapProfile) {
  Result<Profile> p = read_profile_file(LEAKSCOPE_TEST_DATA "/go_heap.pb.gz");
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->sample_types.size(), 4u);
  EXPECT_EQ(p->sample_types[3], (ValueType{"inuse_space", "bytes"}));
  EXPECT_EQ(p->period_type, (ValueType{"space", "bytes"}));
  EXPECT_EQ(p->period, 4096);
  EXPECT_EQ(p->samples.size(), 5u);
  EXPECT_EQ(p->locations.size(), 10u);
  ASSERT_EQ(p->mappings.size(), 3u);  // the binary, [vdso], [vsyscall]
  EXPECT_TRUE(p->mappings[0].has_functions);
  size_t inuse = select_sample_type(*p).value();
  EXPECT_EQ(inuse, 3u);
  int64_t total = 0, leak = 0;
  for (const Sample& s : p->samples) {
    total += s.values[inuse];
    if (frames_of(*p, s).front().function == "main.leak") leak += s.values[inuse];
  }
  EXPECT_EQ(total, 1129415);
  EXPECT_EQ(leak, 1120972);
  // Ours re-encoded decodes to the same model.
  EXPECT_EQ(decode_ok(encode_profile(*p)), *p);
}

TEST(Codec, AcceptsConcatenatedGzipMembers) {
  std::vector<uint8_t> raw = encode_profile(heap_profile(), false);
  size_t half = raw.size() / 2;
  std::vector<uint8_t> bytes = gzip::deflate({raw.data(), half});
  std::vector<uint8_t> second = gzip::deflate({raw.data() + half, raw.size() - half});
  bytes.insert(bytes.end(), second.begin(), second.end());
  EXPECT_EQ(decode_ok(bytes), heap_profile());
}

class ProfileFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/leakscope-profile-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ProfileFiles, WritesAtomicallyAndReadsBack) {
  std::string path = dir_ + "/heap.pb.gz";
  ASSERT_TRUE(write_profile_file(path, heap_profile()).ok());
  Profile other = heap_profile();
  other.samples.pop_back();
  ASSERT_TRUE(write_profile_file(path, other).ok());  // replaces
  Result<Profile> back = read_profile_file(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, other);
  int files = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir_)) files += entry.exists();
  EXPECT_EQ(files, 1) << "no temporary file is left behind";
}

TEST_F(ProfileFiles, FileErrorsNameThePath) {
  std::string missing = dir_ + "/no/such/dir/heap.pb.gz";
  Result<void> w = write_profile_file(missing, heap_profile());
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find(dir_ + "/no/such/dir/heap.pb.gz"), std::string::npos)
      << w.error().message;
  EXPECT_NE(w.error().message.find("No such file or directory"), std::string::npos);
  Result<Profile> r = read_profile_file(dir_ + "/absent.pb.gz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, dir_ + "/absent.pb.gz: opening: No such file or directory");
}

// A write that fails half-way (here: the file-size limit, EFBIG; a full disk, ENOSPC, takes the
// same path) is reported with the path and the cause, and leaves neither a temporary file nor a
// half profile behind. Runs in a child, because the limit is per process.
TEST_F(ProfileFiles, FailedWriteNamesThePathAndCleansUp) {
  std::string path = dir_ + "/heap.pb.gz";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit limit = {100, 100};
    setrlimit(RLIMIT_FSIZE, &limit);
    Result<void> w = write_profile_file(path, heap_profile());
    bool ok = !w.ok() && w.error().message == path + ": writing: File too large";
    if (!ok) fprintf(stderr, "got: %s\n", w.ok() ? "success" : w.error().message.c_str());
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

// `go tool pprof` must read what we write (the checklist in the pprof reference, section 6).
TEST_F(ProfileFiles, GoToolPprofReadsOurOutput) {
  if (system("go version >/dev/null 2>&1") != 0) GTEST_SKIP() << "go is not installed";
  std::string path = dir_ + "/heap.pb.gz";
  ASSERT_TRUE(write_profile_file(path, heap_profile()).ok());
  std::string cmd = "HOME=" + dir_ + " go tool pprof -traces " + path + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  ASSERT_EQ(pclose(f), 0) << out;
  EXPECT_NE(out.find("Type: inuse_space"), std::string::npos) << out;
  EXPECT_NE(out.find("leak_here"), std::string::npos) << out;
  EXPECT_NE(out.find("Cache::put"), std::string::npos) << out;
  EXPECT_NE(out.find("4kB"), std::string::npos) << out;
}

}  // namespace
}  // namespace leakscope
