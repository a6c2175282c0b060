// Fuzzes the detective's parsers of outside text: /proc/PID/status, smaps_rollup, /proc/PID/cgroup,
// cgroup memory limits, debug URLs and the agent's announce file, and the checks' parsers: ELF
// section headers (is_go_elf), /proc/net/tcp, socket links, a load's wrk/ab summaries, --gc. None
// may crash, hang or read out of bounds on any input; results must respect their own invariants
// (sizes non-negative, ports in range, hosts non-empty and free of blanks, line breaks, '@', '/'
// and brackets).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cli/detect_checks.h"
#include "cli/detect_gc.h"
#include "cli/detect_proc.h"
#include "cli/detect_url.h"

using namespace leakscope::cli;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  ProcFigures f;
  parse_status(text, f);
  if ((f.rss_bytes && *f.rss_bytes < 0) || (f.threads && *f.threads < 0)) std::abort();
  if (auto pss = parse_smaps_rollup_pss(text); pss && *pss < 0) std::abort();
  CgroupPath cg = parse_proc_cgroup(text);
  if (!cg.path.empty() && cg.path[0] != '/') std::abort();
  if (auto limit = parse_memory_limit(text); limit && *limit <= 0) std::abort();
  for (auto parsed : {parse_url(text), parse_announce(text)}) {
    if (!parsed) continue;
    if (parsed->host.empty() || parsed->port <= 0 || parsed->port > 65535) std::abort();
    if (parsed->host.find_first_of(" \t\r\n@/[]") != std::string::npos) std::abort();
    (void)parsed->text();
  }
  (void)is_go_elf(text);
  (void)parse_listening_inodes(text, 8080);
  if (auto inode = parse_socket_link(text); inode && text.rfind("socket:[", 0) != 0) std::abort();
  LoadSummaries runs = load_summaries(text);
  if (runs.empty < 0 || runs.empty > runs.runs) std::abort();
  if (auto gc = parse_gc(text); gc && *gc < 0) std::abort();
  (void)last_lines(text, 3);
  return 0;
}
