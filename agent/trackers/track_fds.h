// The descriptor tracker: which call site opened each descriptor that is still open.
//
// One word per descriptor, in a fixed-size table indexed by the descriptor number (fds are small
// dense integers: the kernel always hands out the lowest free one). A creating hook writes the
// word after the real call succeeded; close() clears it *before* calling the real close, because
// the number can be handed out again to another thread the instant the kernel releases it (the
// same rule as "record a free before calling the real free"). Descriptors at or past the table's
// capacity are counted as overflow and reported under "[leakscope: overflow]" when served.
//
// The table never claims more than it knows: at serve time every entry is checked against
// /proc/self/fd. A descriptor listed there but absent from the table was made before the agent,
// or by a raw syscall or an unhooked libc internal: "[unknown origin]". An entry whose descriptor
// is no longer listed, or whose kind no longer matches the link (a socket where a file was
// recorded), was closed behind the agent's back (raw close, closedir of an fdopendir stream) and is
// dropped.
//
// Everything in this header is pure (no hooks, no agent state), so the unit tests use it alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace leakscope::agent {

// What kind of object a descriptor refers to. Recorded from the creating call, and derived
// again from the /proc/self/fd link when served.
enum class FdKind : uint8_t {
  kUnknown = 0,
  kFile,  // open/openat/creat/fopen: a path (regular file, device, directory, fifo)
  kSocket,
  kPipe,
  kEventfd,
  kTimerfd,
  kSignalfd,
  kEpoll,
  kInotify,
  kMemfd,
  kOther,  // another anon inode (pidfd, userfaultfd, perf_event, ...)
};

const char* fd_kind_name(FdKind kind);

// Classifies a /proc/self/fd/N link target ("socket:[123]", "pipe:[7]", "anon_inode:[eventfd]",
// "/memfd:x (deleted)", "/etc/passwd", ...).
FdKind classify_fd_link(const char* link);

// True when a descriptor recorded as `recorded` may legitimately show `seen` in /proc/self/fd
// (kUnknown on either side matches anything: dup of an unrecorded descriptor, odd links).
bool fd_kinds_compatible(FdKind recorded, FdKind seen);

// One table word. Bit layout (0 = no entry):
//
//   63       62     61..48    47..40   39..32   31..0
//   present  agent  reserved  flags    kind     stack id (0: the stack table was full)
//
// `agent` marks descriptors the agent itself opened (its server socket, its /proc reads): they
// are never reported.
struct FdEntry {
  bool present = false;
  bool agent = false;
  uint8_t flags = 0;  // kFdCloexec, kFdStdio
  FdKind kind = FdKind::kUnknown;
  uint32_t stack_id = 0;

  uint64_t pack() const;
  static FdEntry unpack(uint64_t word);
};

inline constexpr uint8_t kFdCloexec = 1;  // opened with O_CLOEXEC / SOCK_CLOEXEC / ...
inline constexpr uint8_t kFdStdio = 2;    // owned by a FILE* (fopen, fdopen)

// The fixed-size table. Storage is supplied by the caller (a zeroed static array in the agent,
// a vector in tests). Every operation is a single atomic load or store on one word: no lock.
class FdTable {
 public:
  // constexpr: the agent's table is constant-initialized, so hooks that run before this
  // library's static constructors (the agent may initialise from the first malloc) see it whole.
  constexpr FdTable(std::atomic<uint64_t>* words, int capacity)
      : words_(words), capacity_(capacity) {}

  int capacity() const { return capacity_; }
  // Records `entry` for `fd`; returns false (and counts overflow) when fd >= capacity.
  bool set(int fd, const FdEntry& entry);
  void clear(int fd);
  // The server's drop of an entry it found stale: clears fd only if it still holds exactly
  // `seen` (one CAS), so an entry a concurrent open recorded after the check survives. (An open
  // from the same site with the same kind packs to the same word and is not told apart.)
  bool clear_if(int fd, const FdEntry& seen);
  // close_range(first, last): clears [first, min(last, capacity - 1)].
  void clear_range(unsigned first, unsigned last);
  // close_range(..., CLOSE_RANGE_CLOEXEC): marks the range close-on-exec.
  void mark_cloexec_range(unsigned first, unsigned last);
  FdEntry get(int fd) const;
  // One past the highest descriptor ever recorded (bounds the serve-time scan).
  int high_water() const { return high_water_.load(std::memory_order_relaxed); }
  int64_t overflow() const { return overflow_.load(std::memory_order_relaxed); }
  // After a failed or torn state (fork child keeps its copy; nothing to reset but counters).
  void reset_counters() { overflow_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t>* words_;
  int capacity_;
  std::atomic<int> high_water_{0};
  std::atomic<int64_t> overflow_{0};
};

// Small parsing helpers for /proc text, shared with the thread tracker (pure, tested).
// Kernel state letter from /proc/PID/task/TID/stat ("123 (name) S 1 ..."); '?' if malformed.
char parse_task_state(const char* stat_text);
// The SigBlk mask from /proc/.../status; false if absent.
bool parse_sig_blocked(const char* status_text, uint64_t* mask);

// ---- agent side (not pure; defined in track_fds_*.cc, used by the thread tracker too) -----------

// The agent's table (capacity kFdTableCapacity, static storage) and whether hooks record.
FdTable& fd_table();
inline constexpr int kFdTableCapacity = 1 << 16;

// The interned stack of the call site a hook was entered from (descriptor, thread and heap hooks):
// `ret` is the hook's return address, `cfa` its canonical frame address (__builtin_dwarf_cfa()).
// Served from a per-thread cache of validated stacks when the same site repeats
// (track_fds_stack.cc); returns 0 when the stack table is full. Preserves errno. Call only when
// !in_agent().
uint32_t site_stack_id(uintptr_t ret, uintptr_t cfa);
// Switches the per-thread cache off (LEAKSCOPE_FD_STACK_CACHE=0): every call unwinds.
void set_site_cache_enabled(bool on);

// The /debug/pprof/fds profile, gzip'd protobuf (for dumps to a directory).
std::string fds_profile_bytes();

// Whether the hooks record (set by fds_init(); track_fds_hooks.cc).
void fds_set_recording(bool on);
bool fds_recording();
// Bytes of the table's static storage.
int64_t fd_table_bytes();

// Text helpers for the debug=N pages: one line per frame, "    #i 0xPC symbol+0xoff (object)",
// symbolized with dladdr (for a return address, the call instruction at pc - 1 is resolved).
void append_stack_text(std::string& out, const uintptr_t* pcs, int n, const char* indent);
void append_stack_text_for_id(std::string& out, uint32_t stack_id, const char* indent);
// "0xPC 0xPC ..." (the @ line of Go's count-profile text format).
void append_pcs_hex(std::string& out, const uintptr_t* pcs, int n);

}  // namespace leakscope::agent
