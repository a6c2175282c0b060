// Encoding pprof: Profile -> protobuf (gzip'd), and the file I/O around the codec.
//
// The body (every field but the string table) is written first while strings are interned, and
// the string table is appended last, as Go's runtime does; field order is free in protobuf and
// every reader (pprof, go tool pprof, Parca, Pyroscope, speedscope) resolves indices after the
// whole message. The table is deduplicated with "" at index 0. Repeated scalars are packed.
// Nested messages go through one reused scratch writer each, so encoding allocates per profile,
// not per sample.
//
// Files: reading uses plain read(2) into one buffer (no iostreams: this library is linked into
// the agent); writing goes to a temporary file in the same directory and is renamed over the
// target, so a reader (a scraper, `leakscope top` on a snapshot being written) never sees half a
// profile. Every system-call failure names the path and the errno text (ENOSPC included).
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string_view>
#include <unordered_map>

#include "core/profile/gzip.h"
#include "core/profile/pprof_codec.h"
#include "core/profile/wire.h"

namespace leakscope {
namespace {

using wire::WireWriter;

class StringTable {
 public:
  StringTable() { index(""); }
  uint64_t index(std::string_view s) {
    auto [it, added] = ids_.try_emplace(s, strings_.size());
    if (added) strings_.push_back(s);
    return it->second;
  }
  const std::vector<std::string_view>& strings() const { return strings_; }

 private:
  std::unordered_map<std::string_view, uint64_t> ids_;
  std::vector<std::string_view> strings_;
};

class Encoder {
 public:
  std::vector<uint8_t> run(const Profile& p);

 private:
  void value_type(uint32_t field, const ValueType& v) {
    nested_.clear();
    nested_.uint_field(1, strings_.index(v.type));
    nested_.uint_field(2, strings_.index(v.unit));
    out_.message_field(field, nested_);
  }
  void sample(const Sample& s);
  void mapping(const Mapping& m);
  void location(const Location& l);
  void function(const Function& f);

  StringTable strings_;
  WireWriter out_, scratch_, nested_;
};

void Encoder::sample(const Sample& s) {
  scratch_.clear();
  scratch_.packed_field(1, s.location_ids);
  scratch_.packed_field(2, s.values);
  for (const Label& l : s.labels) {
    nested_.clear();
    nested_.uint_field(1, strings_.index(l.key));
    nested_.uint_field(2, strings_.index(l.str));
    nested_.int_field(3, l.num);
    nested_.uint_field(4, strings_.index(l.num_unit));
    scratch_.message_field(3, nested_);
  }
  out_.message_field(2, scratch_);
}

void Encoder::mapping(const Mapping& m) {
  scratch_.clear();
  scratch_.uint_field(1, m.id);
  scratch_.uint_field(2, m.memory_start);
  scratch_.uint_field(3, m.memory_limit);
  scratch_.uint_field(4, m.file_offset);
  scratch_.uint_field(5, strings_.index(m.filename));
  scratch_.uint_field(6, strings_.index(m.build_id));
  scratch_.bool_field(7, m.has_functions);
  scratch_.bool_field(8, m.has_filenames);
  scratch_.bool_field(9, m.has_line_numbers);
  scratch_.bool_field(10, m.has_inline_frames);
  out_.message_field(3, scratch_);
}

void Encoder::location(const Location& l) {
  scratch_.clear();
  scratch_.uint_field(1, l.id);
  scratch_.uint_field(2, l.mapping_id);
  scratch_.uint_field(3, l.address);
  for (const Line& line : l.lines) {
    nested_.clear();
    nested_.uint_field(1, line.function_id);
    nested_.int_field(2, line.line);
    nested_.int_field(3, line.column);
    scratch_.message_field(4, nested_);
  }
  scratch_.bool_field(5, l.is_folded);
  out_.message_field(4, scratch_);
}

void Encoder::function(const Function& f) {
  scratch_.clear();
  scratch_.uint_field(1, f.id);
  scratch_.uint_field(2, strings_.index(f.name));
  scratch_.uint_field(3, strings_.index(f.system_name));
  scratch_.uint_field(4, strings_.index(f.filename));
  scratch_.int_field(5, f.start_line);
  out_.message_field(5, scratch_);
}

std::vector<uint8_t> Encoder::run(const Profile& p) {
  out_.bytes().reserve(64 * p.samples.size() + 64 * p.locations.size() + 4096);
  for (const ValueType& t : p.sample_types) value_type(1, t);
  for (const Sample& s : p.samples) sample(s);
  for (const Mapping& m : p.mappings) mapping(m);
  for (const Location& l : p.locations) location(l);
  for (const Function& f : p.functions) function(f);
  out_.uint_field(7, strings_.index(p.drop_frames));
  out_.uint_field(8, strings_.index(p.keep_frames));
  out_.int_field(9, p.time_nanos);
  out_.int_field(10, p.duration_nanos);
  value_type(11, p.period_type);
  out_.int_field(12, p.period);
  std::vector<uint64_t> comments;
  for (const std::string& c : p.comments) comments.push_back(strings_.index(c));
  out_.packed_field(13, comments);
  out_.uint_field(14, strings_.index(p.default_sample_type));
  out_.uint_field(15, strings_.index(p.doc_url));
  for (std::string_view s : strings_.strings()) out_.bytes_field(6, s.data(), s.size());
  return std::move(out_.bytes());
}

std::string errno_text(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof buf);  // the GNU variant: returns the text
}

Error sys_error(const std::string& path, const char* doing, int err) {
  return make_error(path + ": " + doing + ": " + errno_text(err));
}

}  // namespace

std::vector<uint8_t> encode_profile(const Profile& profile, bool gzip) {
  std::vector<uint8_t> raw = Encoder().run(profile);
  return gzip ? gzip::deflate(raw) : raw;
}

Result<Profile> read_profile_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error(path, "opening", errno);
  std::vector<uint8_t> bytes;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) bytes.reserve(static_cast<size_t>(st.st_size) + 1);
  size_t used = 0;
  for (;;) {
    if (bytes.size() - used < 65536) bytes.resize(std::max<size_t>(bytes.capacity(), used + 65536));
    ssize_t n = ::read(fd, bytes.data() + used, bytes.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return sys_error(path, "reading", err);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    if (static_cast<int64_t>(used) > gzip::kDefaultMaxInflated) {  // /dev/zero, a wrong file
      ::close(fd);
      return make_error(path + ": larger than " + std::to_string(gzip::kDefaultMaxInflated) +
                        " bytes, not a profile");
    }
  }
  ::close(fd);
  bytes.resize(used);
  Result<Profile> p = decode_profile(bytes);
  if (!p) return p.error().wrap(path);
  return p;
}

Result<void> write_profile_file(const std::string& path, const Profile& profile) {
  std::vector<uint8_t> bytes = encode_profile(profile);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return sys_error(tmp, "creating", errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      return sys_error(path, "writing", err);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error(path, "writing", err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error(path, "renaming the temporary file into place", err);
  }
  return {};
}

}  // namespace leakscope
