// See detect_checks.h. How each check decides, and why that way:
//   - Go is recognised from the ELF file, not from a name or a guess: `.go.buildinfo` is written
//     by every Go linker since 1.13 (runtime/debug.ReadBuildInfo reads it), `.note.go.buildid` by
//     every one since 1.9. Only section headers and their names are read (a few KiB of a
//     many-MiB binary), with bounds checks on every offset, so a truncated file is "not Go".
//   - The owner of a port is found the way ss -p finds it: the inode of the LISTEN socket in
//     /proc/net/tcp{,6}, then the process whose /proc/PID/fd holds "socket:[inode]". Only the
//     target's own tree is searched first; a foreign owner is then looked up to be named.
#include "cli/detect_checks.h"

#include <dirent.h>
#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "cli/detect_proc.h"

namespace leakscope::cli {
namespace {

template <typename T>
bool read_at(std::string_view bytes, uint64_t offset, T& out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(&out, bytes.data() + offset, sizeof(T));
  return true;
}

// The section names of a 64-bit little-endian ELF file (the only kind this CLI runs beside).
std::vector<std::string> section_names(std::string_view elf) {
  Elf64_Ehdr eh;
  if (!read_at(elf, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr))
    return {};
  Elf64_Shdr names;
  if (eh.e_shstrndx >= eh.e_shnum ||
      !read_at(elf, eh.e_shoff + uint64_t{eh.e_shstrndx} * sizeof(Elf64_Shdr), names))
    return {};
  std::vector<std::string> out;
  for (uint16_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    if (!read_at(elf, eh.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr), sh)) return {};
    uint64_t at = names.sh_offset + sh.sh_name;
    if (sh.sh_name >= names.sh_size || at >= elf.size()) continue;
    size_t len = strnlen(elf.data() + at, std::min<uint64_t>(elf.size() - at, 256));
    out.emplace_back(elf.data() + at, len);
  }
  return out;
}

// The ELF header, the section header table and the section-name table of `path`, each at its
// own offset in a buffer as large as the furthest of them (unread bytes stay zero).
std::string read_elf_headers(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh)) return {};
  uint64_t table_end = eh.e_shoff + uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr);
  if (eh.e_shnum == 0 || table_end > (uint64_t{1} << 32)) return {};
  std::string buf(sizeof eh, '\0');
  std::memcpy(buf.data(), &eh, sizeof eh);
  auto load = [&](uint64_t offset, uint64_t size) {
    if (size > (64u << 20)) return false;
    if (buf.size() < offset + size) buf.resize(offset + size, '\0');
    in.clear();
    in.seekg(static_cast<std::streamoff>(offset));
    return static_cast<bool>(in.read(buf.data() + offset, static_cast<std::streamsize>(size)));
  };
  if (!load(eh.e_shoff, table_end - eh.e_shoff)) return {};
  Elf64_Shdr names;
  if (eh.e_shstrndx >= eh.e_shnum ||
      !read_at(buf, eh.e_shoff + uint64_t{eh.e_shstrndx} * sizeof(Elf64_Shdr), names))
    return {};
  if (!load(names.sh_offset, names.sh_size)) return {};
  return buf;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string cmdline_of(pid_t pid) {
  auto text = read_text_file("/proc/" + std::to_string(pid) + "/cmdline");
  if (!text) return "?";
  std::string s = *text;
  while (!s.empty() && s.back() == '\0') s.pop_back();
  for (char& c : s)
    if (c == '\0') c = ' ';
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

std::optional<pid_t> as_pid(const char* name) {
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(name, name + std::strlen(name), pid);
  if (ec != std::errc() || *end != '\0' || pid <= 0) return std::nullopt;
  return pid;
}

bool holds_socket(pid_t pid, const std::vector<uint64_t>& inodes) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char link[128];
    ssize_t n = readlink((dir + "/" + e->d_name).c_str(), link, sizeof link - 1);
    if (n <= 0) continue;
    auto inode = parse_socket_link(std::string(link, static_cast<size_t>(n)));
    for (uint64_t want : inodes) found = found || (inode && *inode == want);
    if (found) break;
  }
  closedir(d);
  return found;
}

// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
std::optional<uint64_t> start_time(pid_t pid) {
  auto stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return std::nullopt;
  std::istringstream rest(stat->substr(close + 2));
  std::string field;
  for (int i = 3; i < 22; ++i)
    if (!(rest >> field)) return std::nullopt;
  uint64_t ticks = 0;
  if (!(rest >> ticks)) return std::nullopt;
  return ticks;
}

std::optional<pid_t> parent_of(pid_t pid) {
  auto stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  size_t close = stat->rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos || close + 4 >= stat->size()) return std::nullopt;
  std::istringstream rest(stat->substr(close + 2));
  std::string state;
  pid_t ppid = 0;
  if (!(rest >> state >> ppid)) return std::nullopt;
  return ppid;
}

}  // namespace

bool is_go_elf(std::string_view elf) {
  for (const std::string& name : section_names(elf))
    if (name == ".go.buildinfo" || name == ".note.go.buildid") return true;
  return false;
}

bool is_go_program_file(const std::string& path) { return is_go_elf(read_elf_headers(path)); }

std::optional<std::string> resolve_program(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::optional<std::string> go_in_tree(pid_t root) {
  DIR* d = opendir("/proc");
  if (d == nullptr) return std::nullopt;
  std::optional<std::string> found;
  while (dirent* e = readdir(d)) {
    auto pid = as_pid(e->d_name);
    if (!pid || !descends_from(*pid, root)) continue;
    std::string exe = "/proc/" + std::to_string(*pid) + "/exe";
    if (!is_go_program_file(exe)) continue;
    char buf[4096];
    ssize_t n = readlink(exe.c_str(), buf, sizeof buf - 1);
    found = n > 0 ? std::string(buf, static_cast<size_t>(n)) : exe;
    break;
  }
  closedir(d);
  return found;
}

std::string go_under_agent_message(const std::string& program) {
  return program +
         " is a Go program: Go allocates without malloc, so the agent would see an empty heap "
         "(and a static Go binary ignores LD_PRELOAD). Use the program's own pprof instead: "
         "leakscope run --pprof http://HOST:PORT/debug/pprof/ --load ... -- " +
         program +
         " ... . To add it, import _ \"net/http/pprof\" and serve it on a separate loopback "
         "debug port: go func() { log.Println(http.ListenAndServe(\"127.0.0.1:6060\", nil)) }() "
         "(README, \"Go services\")";
}

LoadSummaries load_summaries(const std::string& log_text) {
  LoadSummaries out;
  std::istringstream in(log_text);
  std::string line;
  while (std::getline(in, line)) {
    size_t p = line.find_first_not_of(" \t");
    if (p == std::string::npos) continue;
    std::string l = trim(line.substr(p));
    std::string empty;
    static const std::string kWrk = " requests in ", kAb = "Complete requests:";
    if (size_t at = l.find(kWrk);
        at != std::string::npos && at > 0 && l.find_first_not_of("0123456789") == at) {
      ++out.runs;
      if (l.rfind("0 requests in ", 0) == 0) empty = "wrk: " + l;
    } else if (l.rfind(kAb, 0) == 0) {
      ++out.runs;
      std::string rest = l.substr(kAb.size());
      if (rest.substr(std::min(rest.size(), rest.find_first_not_of(" \t"))) == "0")
        empty = "ab: Complete requests: 0";
    }
    if (!empty.empty()) {
      ++out.empty;
      if (out.first_empty.empty()) out.first_empty = empty;
    }
  }
  return out;
}

std::string load_sent_nothing(const std::string& log_text) {
  LoadSummaries s = load_summaries(log_text);
  if (s.runs == 0 || s.empty < s.runs) return "";
  if (s.runs == 1) return s.first_empty;
  return "all " + std::to_string(s.runs) + " runs: " + s.first_empty;
}

std::string last_lines(const std::string& text, size_t n) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!trim(line).empty()) lines.push_back(trim(line));
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += "\n  | " + lines[i];
  return out;
}

std::string output_tail(const std::string& path, const std::string& who, size_t n) {
  auto text = read_text_file(path);
  if (!text) return "";
  std::string tail = last_lines(*text, n);
  if (tail.empty()) return "";
  return "\nthe last lines of " + who + "'s output (" + path + "):" + tail;
}

std::vector<uint64_t> parse_listening_inodes(const std::string& text, int port) {
  // "  sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout
  //    inode": local_address is HEXADDR:HEXPORT, st 0A is LISTEN.
  std::vector<uint64_t> out;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, st, queues, timer, retr, uid, timeout;
    uint64_t inode = 0;
    if (!(f >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode))
      continue;
    size_t colon = local.rfind(':');
    if (st != "0A" || colon == std::string::npos) continue;
    int p = 0;
    auto [end, ec] = std::from_chars(local.data() + colon + 1, local.data() + local.size(), p, 16);
    if (ec == std::errc() && p == port && inode != 0) out.push_back(inode);
  }
  return out;
}

std::optional<uint64_t> parse_socket_link(const std::string& link) {
  if (link.rfind("socket:[", 0) != 0 || link.back() != ']') return std::nullopt;
  uint64_t inode = 0;
  auto [end, ec] = std::from_chars(link.data() + 8, link.data() + link.size() - 1, inode);
  if (ec != std::errc() || end != link.data() + link.size() - 1) return std::nullopt;
  return inode;
}

bool descends_from(pid_t pid, pid_t root) {
  for (int depth = 0; depth < 64 && pid > 1; ++depth) {
    if (pid == root) return true;
    auto parent = parent_of(pid);
    if (!parent) return false;
    pid = *parent;
  }
  return pid == root;
}

std::vector<pid_t> port_owners(int port) {
  std::vector<uint64_t> inodes;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"})
    if (auto text = read_text_file(file))
      for (uint64_t i : parse_listening_inodes(*text, port)) inodes.push_back(i);
  std::vector<pid_t> owners;
  if (inodes.empty()) return owners;
  DIR* d = opendir("/proc");
  if (d == nullptr) return owners;
  while (dirent* e = readdir(d)) {
    auto pid = as_pid(e->d_name);
    if (pid && holds_socket(*pid, inodes)) owners.push_back(*pid);
  }
  closedir(d);
  return owners;
}

std::optional<pid_t> port_owner(int port) {
  std::vector<pid_t> owners = port_owners(port);
  if (owners.empty()) return std::nullopt;
  return owners.front();
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string foreign_port_owner(const Url& url, pid_t target, const std::string& program) {
  if (!is_loopback_host(url.host)) return "";  // a port number here may be another host's
  std::vector<pid_t> owners = port_owners(url.port);
  auto target_start = start_time(target);
  std::optional<pid_t> old;
  for (pid_t owner : owners) {
    if (descends_from(owner, target)) return "";
    // Only an owner older than the target is an old instance; a newer one was likely started
    // for it (docker-proxy for `docker run -p`), which /proc cannot tie to the target.
    auto started = start_time(owner);
    if (!old && started && target_start && *started < *target_start) old = owner;
  }
  if (!old) return "";
  return "port " + std::to_string(url.port) + " of " + url.text() +
         " is held by another process, PID " + std::to_string(*old) + " (" + cmdline_of(*old) +
         "), started before the " + program + " that leakscope started (PID " +
         std::to_string(target) +
         "): its profiles would be the old process's. Stop the old instance, or give this one "
         "another debug port";
}

std::string not_pprof_message(const Url& url, int status) {
  return url.text() + "/debug/pprof/ answers HTTP " + std::to_string(status) +
         ": the service there serves no pprof. In Go, import _ \"net/http/pprof\" and serve "
         "http.DefaultServeMux on a debug port (e.g. go http.ListenAndServe(\"127.0.0.1:6060\", "
         "nil)); a native program serves it under the agent (LD_PRELOAD=libleakscope.so "
         "LEAKSCOPE_ADDR=127.0.0.1:6060)";
}

}  // namespace leakscope::cli
