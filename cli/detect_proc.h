// /proc and cgroup readers for any PID: the figures a snapshot holds besides its profiles (RSS,
// PSS, threads, open descriptors) and the memory limit the forecast runs to. The parsers take
// text so that they can be unit-tested and fuzzed without a process; the readers are thin.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/util/result.h"

namespace leakscope::cli {

struct ProcFigures {
  std::optional<int64_t> rss_bytes;  // VmRSS from /proc/PID/status
  std::optional<int64_t> pss_bytes;  // Pss from /proc/PID/smaps_rollup (when readable)
  std::optional<int64_t> threads;    // Threads from /proc/PID/status
  std::optional<int64_t> fds;        // entries of /proc/PID/fd
};

// Parses /proc/PID/status: fills rss_bytes ("VmRSS: N kB") and threads ("Threads: N").
void parse_status(const std::string& text, ProcFigures& out);
// Parses /proc/PID/smaps_rollup: the "Pss:" line, in bytes.
std::optional<int64_t> parse_smaps_rollup_pss(const std::string& text);

// Reads every figure it can; an error only when the process is gone (status unreadable).
Result<ProcFigures> read_proc_figures(pid_t pid);

// The memory cgroup of a process from /proc/PID/cgroup text: the v2 path ("0::/a/b") or, on
// cgroup v1, the memory controller's ("4:memory:/a/b"). Empty when there is none.
struct CgroupPath {
  std::string path;
  bool v2 = false;
};
CgroupPath parse_proc_cgroup(const std::string& text);
// memory.max ("max" or bytes) or v1 memory.limit_in_bytes; nullopt when unlimited or malformed.
std::optional<int64_t> parse_memory_limit(const std::string& text);

// The tightest memory limit on the process's cgroup and its ancestors; nullopt if none.
std::optional<int64_t> read_cgroup_memory_limit(pid_t pid);

// The whole file, or an error naming it.
Result<std::string> read_text_file(const std::string& path);

}  // namespace leakscope::cli
