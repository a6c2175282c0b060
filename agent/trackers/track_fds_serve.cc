// /debug/pprof/fds: every open descriptor, grouped by the stack that created it.
//
// Serving reconciles the table with the kernel's view (/proc/self/fd), which is the truth:
//   listed, entry present, kinds compatible  -> the recorded creation stack
//   listed, entry absent or of another kind  -> "[unknown origin]" (before the agent, a raw
//                                               syscall, an unhooked libc internal); a stale
//                                               entry of another kind is dropped
//   listed, fd >= table capacity             -> "[leakscope: overflow]"
//   entry present, not listed, fcntl EBADF   -> closed behind the agent's back: dropped
// Entries the agent made for itself (its server's sockets) are skipped. Each sample carries
// labels for what the descriptor is: kind, the path of a file, the family and peer (or local
// address when listening) of a socket. Sample type fds/count, one per descriptor, summed over
// equal (stack, labels).
//
// ?debug=1: Go's count-profile text (total, then "N @ pcs" blocks with symbolized frames);
// ?debug=2: one paragraph per descriptor. Both symbolize with dladdr (track_fds_text.cc).
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "agent/agent_api.h"
#include "agent/own_fds.h"
#include "agent/trackers/track_fds.h"
#include "agent/trackers/tracker_pages.h"

namespace leakscope::agent {

namespace {

struct FdView {
  int fd = -1;
  Origin origin = Origin::kUnknown;
  FdKind kind = FdKind::kUnknown;
  FdEntry entry;
  std::vector<Label> labels;
  std::string summary;  // "socket family=ipv4 peer=127.0.0.1:80"
};

std::string format_sockaddr(const sockaddr_storage& ss, socklen_t len) {
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  if (ss.ss_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
    size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    if (n == 0) return "(unnamed)";
    if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, n - 1);
    return std::string(un->sun_path, strnlen(un->sun_path, n));
  }
  return "";
}

const char* family_name(int family) {
  switch (family) {
    case AF_INET:
      return "ipv4";
    case AF_INET6:
      return "ipv6";
    case AF_UNIX:
      return "unix";
    case AF_NETLINK:
      return "netlink";
    case AF_PACKET:
      return "packet";
    default:
      return "other";
  }
}

void add_label(FdView& v, const char* key, const std::string& value) {
  if (value.empty()) return;  // pprof drops empty string labels anyway
  v.labels.push_back(Label{key, value, 0, ""});
  v.summary += " ";
  v.summary += key;
  v.summary += "=";
  v.summary += value;
}

void describe_socket(FdView& v) {
  sockaddr_storage local{};
  socklen_t local_len = sizeof(local);
  if (getsockname(v.fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return;
  add_label(v, "family", family_name(local.ss_family));
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof(peer);
  if (getpeername(v.fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) == 0) {
    add_label(v, "peer", format_sockaddr(peer, peer_len));
    return;
  }
  int listening = 0;
  socklen_t opt_len = sizeof(listening);
  getsockopt(v.fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &opt_len);
  add_label(v, "state", listening ? "listening" : "unconnected");
  add_label(v, "local", format_sockaddr(local, local_len));
}

void describe(FdView& v, const char* link) {
  v.summary = fd_kind_name(v.kind);
  v.labels.push_back(Label{"kind", fd_kind_name(v.kind), 0, ""});
  if (v.kind == FdKind::kFile || v.kind == FdKind::kMemfd) add_label(v, "path", link);
  if (v.kind == FdKind::kSocket) describe_socket(v);
  if (v.kind == FdKind::kOther) add_label(v, "object", link);
  // Read now rather than trusted from the creating call: fcntl(F_SETFD) may have changed it. A
  // descriptor without close-on-exec leaks into every child the process execs.
  int fd_flags = fcntl(v.fd, F_GETFD);
  if (fd_flags >= 0)
    v.labels.push_back(Label{"cloexec", (fd_flags & FD_CLOEXEC) ? "yes" : "no", 0, ""});
  if (fd_flags >= 0 && (fd_flags & FD_CLOEXEC)) v.summary += " [cloexec]";
  if (v.entry.present && (v.entry.flags & kFdStdio)) v.summary += " [FILE*]";
}

bool read_link(int dir, const char* name, char* buf, size_t cap) {
  ssize_t n = readlinkat(dir, name, buf, cap - 1);
  if (n < 0) return false;
  buf[n] = '\0';
  return true;
}

// One entry of /proc/self/fd (its name, a number) into out, unless it is the agent's own.
void view_fd(FdTable& table, int self, const char* name, std::vector<bool>& listed,
             std::vector<FdView>& out) {
  if (name[0] < '0' || name[0] > '9') return;
  int fd = std::atoi(name);
  char link[4096];
  if (fd == self || !read_link(self, name, link, sizeof(link))) return;
  if (fd < static_cast<int>(listed.size())) listed[fd] = true;
  FdView v;
  v.fd = fd;
  v.kind = classify_fd_link(link);
  v.entry = table.get(fd);
  if (v.entry.present && v.entry.agent) return;
  if (fd >= table.capacity()) {
    v.origin = Origin::kOverflow;
  } else if (v.entry.present && fd_kinds_compatible(v.entry.kind, v.kind)) {
    v.origin = Origin::kTracked;
  } else {
    // Stale (the kernel has this number for something else): dropped unless it changed since.
    if (v.entry.present) table.clear_if(fd, v.entry);
    v.entry = FdEntry{};
  }
  describe(v, link);
  out.push_back(std::move(v));
}

std::vector<FdView> scan_fds(FdTable& table) {
  std::vector<FdView> out;
  // The directory is read with getdents64 on a descriptor of the agent's own (own_fds.h), not
  // with opendir: closedir would close the number even after the program closed it and reused
  // it for something of its own.
  int self = own_fd(open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (self < 0) return out;
  std::vector<bool> listed(static_cast<size_t>(table.high_water()), false);
  alignas(dirent64) char batch[8192];
  while (own_fd_live(self)) {
    ssize_t n = getdents64(self, batch, sizeof(batch));
    if (n <= 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* d = reinterpret_cast<const dirent64*>(batch + at);
      at += d->d_reclen;
      view_fd(table, self, d->d_name, listed, out);
    }
  }
  own_fd_close(self);
  for (size_t fd = 0; fd < listed.size(); ++fd) {
    FdEntry e = table.get(static_cast<int>(fd));
    if (!e.present || listed[fd] || e.agent) continue;
    if (fcntl(static_cast<int>(fd), F_GETFD) < 0 && errno == EBADF) {
      table.clear_if(static_cast<int>(fd), e);  // closed behind the agent's back
    }
  }
  return out;
}

std::string comment(const std::vector<FdView>& fds, FdTable& table) {
  int64_t tracked = 0, unknown = 0, overflow = 0;
  for (const auto& v : fds) {
    if (v.origin == Origin::kTracked) ++tracked;
    if (v.origin == Origin::kUnknown) ++unknown;
    if (v.origin == Origin::kOverflow) ++overflow;
  }
  return "leakscope fds: " + std::to_string(fds.size()) + " open, " + std::to_string(tracked) +
         " with a creation stack, " + std::to_string(unknown) + " of unknown origin, " +
         std::to_string(overflow) + " past the table capacity " + std::to_string(table.capacity()) +
         " (overflow events: " + std::to_string(table.overflow()) + ")";
}

std::vector<CountItem> count_items(const std::vector<FdView>& fds) {
  std::vector<CountItem> items;
  items.reserve(fds.size());
  for (const auto& v : fds) items.push_back({v.origin, v.entry.stack_id, v.labels});
  return items;
}

std::string profile_body(const std::vector<FdView>& fds, FdTable& table) {
  return count_profile_bytes("fds", count_items(fds), comment(fds, table));
}

// debug=2: every descriptor with what it is and where it was made.
std::string text_each(const std::vector<FdView>& fds) {
  std::string out = "fds: " + std::to_string(fds.size()) + " open\n\n";
  for (const auto& v : fds) {
    out += "fd " + std::to_string(v.fd) + ": " + v.summary + "\n";
    if (v.origin == Origin::kTracked) {
      out += "  created at:\n";
      append_stack_text_for_id(out, v.entry.stack_id, "    ");
    } else {
      out += "  ";
      out += origin_frame(v.origin);
      out += "\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace

std::string fds_profile_bytes() {
  ReentryGuard guard;
  FdTable& table = fd_table();
  return profile_body(scan_fds(table), table);
}

std::string fds_dump_profile() { return fds_recording() ? fds_profile_bytes() : ""; }

// The table alone, no /proc walk: each recorded descriptor is confirmed open with one fcntl
// (an entry closed behind the agent's back by a raw syscall is not counted; serving drops it).
TrackerFigures fds_figures() {
  TrackerFigures f;
  if (!fds_recording()) return f;
  ReentryGuard guard;  // fcntl is hooked
  constexpr int kKinds = static_cast<int>(FdKind::kOther) + 1;
  int64_t by_kind[kKinds] = {};
  FdTable& table = fd_table();
  int high = table.high_water();
  for (int fd = 0; fd < high; ++fd) {
    FdEntry e = table.get(fd);
    if (!e.present || fcntl(fd, F_GETFD) < 0) continue;
    ++f.entries;
    if (!e.agent) ++by_kind[static_cast<int>(e.kind)];
  }
  table_figures(table, fd_table_bytes(), f);
  for (int k = 0; k < kKinds; ++k)
    f.live.push_back({fd_kind_name(static_cast<FdKind>(k)), by_kind[k]});
  return f;
}

namespace {

void serve_fds(const HttpRequest& req, HttpResponse& res) {
  ReentryGuard guard;
  FdTable& table = fd_table();
  std::vector<FdView> fds = scan_fds(table);
  serve_tracker_page(
      req, res, "fds",
      [&](int debug) { return debug == 1 ? count_text("fds", count_items(fds)) : text_each(fds); },
      [&] { return profile_body(fds, table); });
}

}  // namespace

void fds_init() {
  if (!env_switch("LEAKSCOPE_FDS", true)) return;
  if (!env_switch("LEAKSCOPE_FD_STACK_CACHE", true)) set_site_cache_enabled(false);
  register_route("/debug/pprof/fds",
                 "Open file descriptors, grouped by the stack that created them (fds/count)",
                 serve_fds);
  fds_set_recording(true);
}

void fds_after_fork_child() {
  // The child inherits every descriptor, so the parent's table is right as it stands; only the
  // counters are the parent's.
  fd_table().reset_counters();
}

}  // namespace leakscope::agent
