// See detect_proc.h. Every reader tolerates a process that exits between two reads: a figure
// it cannot read is left empty, and only an unreadable status file means "gone".
#include "cli/detect_proc.h"

#include <dirent.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace leakscope::cli {
namespace {

// The number after `key` on the line that starts with it ("VmRSS:\t  1234 kB" -> 1234).
std::optional<int64_t> field(const std::string& text, const std::string& key) {
  size_t at = 0;
  while ((at = text.find(key, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') break;
    at += key.size();
  }
  if (at == std::string::npos) return std::nullopt;
  size_t p = at + key.size();
  while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data() + p, text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data() + p || v < 0) return std::nullopt;
  return v;
}

std::optional<int64_t> count_fds(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  int64_t n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

}  // namespace

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(path + ": " + std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void parse_status(const std::string& text, ProcFigures& out) {
  if (auto kb = field(text, "VmRSS:"); kb && *kb < (int64_t{1} << 50)) out.rss_bytes = *kb * 1024;
  if (auto n = field(text, "Threads:")) out.threads = *n;
}

std::optional<int64_t> parse_smaps_rollup_pss(const std::string& text) {
  auto kb = field(text, "Pss:");
  if (!kb || *kb >= (int64_t{1} << 50)) return std::nullopt;
  return *kb * 1024;
}

Result<ProcFigures> read_proc_figures(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  auto status = read_text_file(base + "/status");
  if (!status) return make_error("process " + std::to_string(pid) + " is gone");
  ProcFigures f;
  parse_status(*status, f);
  if (auto rollup = read_text_file(base + "/smaps_rollup"))
    f.pss_bytes = parse_smaps_rollup_pss(*rollup);
  f.fds = count_fds(pid);
  return f;
}

CgroupPath parse_proc_cgroup(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  CgroupPath v1, v2;
  while (std::getline(in, line)) {
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (path.empty() || path[0] != '/') continue;
    if (line.compare(0, a, "0") == 0 && controllers.empty()) v2 = CgroupPath{path, true};
    std::istringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      if (c == "memory") v1 = CgroupPath{path, false};
  }
  return v1.path.empty() ? v2 : v1;
}

std::optional<int64_t> parse_memory_limit(const std::string& text) {
  int64_t v = 0;
  size_t b = text.find_first_not_of(" \t\n");
  if (b == std::string::npos) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data() + b, text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data() + b || v <= 0) return std::nullopt;
  if (v >= (int64_t{1} << 62)) return std::nullopt;  // v1's "unlimited" is 2^63 rounded to pages
  return v;
}

std::optional<int64_t> read_cgroup_memory_limit(pid_t pid) {
  auto text = read_text_file("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text) return std::nullopt;
  CgroupPath cg = parse_proc_cgroup(*text);
  if (cg.path.empty()) return std::nullopt;
  std::vector<std::string> roots =
      cg.v2 ? std::vector<std::string>{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}
            : std::vector<std::string>{"/sys/fs/cgroup/memory"};
  const char* file = cg.v2 ? "/memory.max" : "/memory.limit_in_bytes";
  std::optional<int64_t> best;
  for (const std::string& root : roots) {
    // Walk from the process's cgroup up to the root: the tightest limit wins.
    std::string path = cg.path;
    while (true) {
      std::string dir = root + (path == "/" ? "" : path);
      if (auto t = read_text_file(dir + file))
        if (auto limit = parse_memory_limit(*t); limit && (!best || *limit < *best)) best = limit;
      if (path == "/" || path.empty()) break;
      size_t slash = path.rfind('/');
      path = slash == 0 ? "/" : path.substr(0, slash);
    }
  }
  return best;
}

}  // namespace leakscope::cli
