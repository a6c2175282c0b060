// Checks that keep `run` and `watch` from a confident wrong answer (issue 17): each one turns an
// everyday mistake that would otherwise end in "no leak", exit 0, into an error that says what
// went wrong and what to do instead.
//   - a Go program started under the agent: Go allocates without malloc, so the agent sees an
//     empty heap (a static Go binary ignores LD_PRELOAD altogether and never announces a port);
//   - a load command that failed (exit 127: no such command; curl's 7: connection refused) or
//     reported that it sent nothing: the run measured an idle service;
//   - someone else on the debug port: an old instance still holds it, the new one logged
//     "address already in use", and the profiles would be the old one's;
//   - a URL that answers HTTP but serves no pprof.
// The parsers take text or bytes, so that unit tests need no process (tests/unit/detect).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/detect_url.h"

namespace leakscope::cli {

// ---- Go programs ------------------------------------------------------------------------------

// True when `elf` (the start of an ELF file, at least its section headers and their names) is a
// Go program: a `.go.buildinfo` section (every Go binary since 1.13) or a `.note.go.buildid`
// note. False for anything else, including files that are not ELF or are cut short.
bool is_go_elf(std::string_view elf);
// Reads the file's headers and section names, then is_go_elf. False when unreadable.
bool is_go_program_file(const std::string& path);
// `name` as execvp finds it: itself when it holds a '/', else the first executable on PATH.
std::optional<std::string> resolve_program(const std::string& name);
// The executable of the first Go program among `root` and its descendants, or nullopt.
std::optional<std::string> go_in_tree(pid_t root);
// The error for a Go program under the agent: what to use instead (--pprof), and how to add
// net/http/pprof on a separate debug port.
std::string go_under_agent_message(const std::string& program);

// ---- the load -------------------------------------------------------------------------------

// The summaries of wrk ("N requests in 5.00s") and ab ("Complete requests: N") in a load's output:
// how many runs, how many of them sent nothing, and the first such line.
struct LoadSummaries {
  int runs = 0;
  int empty = 0;
  std::string first_empty;
};
LoadSummaries load_summaries(const std::string& log_text);
// Why the load's own output says it sent nothing: every wrk or ab run in it sent no request
// ("0 requests in 5.00s", "Complete requests: 0"); empty when one sent some, or none is known.
std::string load_sent_nothing(const std::string& log_text);

// ---- the target's output ----------------------------------------------------------------------

// The last `n` non-empty lines of `text`, each prefixed with "  | ".
std::string last_lines(const std::string& text, size_t n);
// "\n" + last_lines of the file, under a heading naming it; empty when the file is empty.
std::string output_tail(const std::string& path, const std::string& who, size_t n = 10);

// ---- who owns the debug port ------------------------------------------------------------------

// The inodes of sockets in LISTEN state on local port `port`, from /proc/net/tcp or tcp6 text.
std::vector<uint64_t> parse_listening_inodes(const std::string& proc_net_tcp, int port);
// The inode of "socket:[N]" (a /proc/PID/fd link), or nullopt.
std::optional<uint64_t> parse_socket_link(const std::string& link);
// The process holding the listening socket of `port` in this network namespace: nullopt when no
// socket listens there or its owner is not visible (another namespace, a remote host).
std::optional<pid_t> port_owner(int port);
// True when `pid` is `root` or a descendant of it (parents from /proc/PID/stat).
bool descends_from(pid_t pid, pid_t root);
// Empty when the debug port of `url` is held by `target` (or one of its children), or its owner
// cannot be found or is newer than the target (a helper started for it, like docker-proxy), or
// the URL is not on loopback; else the error naming the older process that holds it.
std::string foreign_port_owner(const Url& url, pid_t target, const std::string& program);

// ---- what answers at a URL ----------------------------------------------------------------------

// The error for an HTTP server that answers `status` (not 200) at URL/debug/pprof/: says so, and
// how to serve pprof (Go: import net/http/pprof; the agent: LEAKSCOPE_ADDR).
std::string not_pprof_message(const Url& url, int status);

}  // namespace leakscope::cli
