// Internal interfaces shared by the agent's subsystems (heap, threads, fds, server). Everything
// here is hidden (the .so exports only the interposed libc/C++ symbols). Implemented by:
//   guard.cc         the per-thread re-entrancy guard
//   stack_capture.cc capture_stack()
//   stack_table.cc   intern_stack()/stack_pcs()
//   profile_out.cc   ProfileBuilder (raw-address pprof with mappings and build IDs)
//   server.cc        register_route() and the loopback debug server
// Thread safety: every function here may be called from any thread, including from inside an
// interposed call; none may throw; none may call the interposed functions without holding a
// ReentryGuard (so the agent's own work is never recorded and never recurses).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/profile/profile.h"

#define LEAKSCOPE_HIDDEN __attribute__((visibility("hidden")))

namespace leakscope::agent {

// ---- re-entrancy ---------------------------------------------------------------------------
// True while this thread is inside the agent (or inside a real allocator call made by it):
// hooks then pass straight through to the real function and record nothing.
LEAKSCOPE_HIDDEN bool in_agent();

// RAII: marks the thread as inside the agent for its lifetime (nests).
class LEAKSCOPE_HIDDEN ReentryGuard {
 public:
  ReentryGuard();
  ~ReentryGuard();
  ReentryGuard(const ReentryGuard&) = delete;
  ReentryGuard& operator=(const ReentryGuard&) = delete;
};

// ---- allocation failure ----------------------------------------------------------------------
// RAII: while alive on this thread, an operator new that fails throws the agent's own
// std::bad_alloc (its static, hidden libstdc++'s), which the agent catches at the boundary of the
// work it was doing (one request, one dump), instead of calling the host's operator new: in a C
// host there is none (that was abort()), in a C++ host it throws the host's bad_alloc out of the
// agent's thread (std::terminate). Issue 18, item 3. Without it (host threads), a failed new in
// agent code behaves as the host's would.
class LEAKSCOPE_HIDDEN AllocFailureThrows {
 public:
  AllocFailureThrows();
  ~AllocFailureThrows();
  AllocFailureThrows(const AllocFailureThrows&) = delete;
  AllocFailureThrows& operator=(const AllocFailureThrows&) = delete;
};

// ---- stacks --------------------------------------------------------------------------------
// True while this thread is inside libgcc's FDE lookup or frame registry (unwind_hooks.cc), where
// it may hold libgcc's object_mutex: the agent must not unwind then (capture_stack returns 0).
LEAKSCOPE_HIDDEN bool in_unwinder();

// RAII, for the thread-stack capture handler: while alive, this thread's unwinds never wait for
// another thread inside the frame registry; when one is inside it, gave_up() is true and the
// handler must not unwind at all.
class LEAKSCOPE_HIDDEN UnwindTryOnly {
 public:
  UnwindTryOnly();
  ~UnwindTryOnly();
  bool gave_up() const;
  UnwindTryOnly(const UnwindTryOnly&) = delete;
  UnwindTryOnly& operator=(const UnwindTryOnly&) = delete;
};
// True inside an UnwindTryOnly scope: the allocation hooks' slow paths fail every allocation
// (the handler may have interrupted the allocator; see unwind_hooks.cc).
LEAKSCOPE_HIDDEN bool in_capture_unwind();

inline constexpr int kMaxFrames = 64;

// Captures up to `max` return addresses of the caller, skipping `skip` innermost frames (the
// agent's own; capture_stack's own frame is never included). Every pc returned is a return
// address (pcs[0] is where the hooked call returns to). Never takes an agent lock and never
// allocates; safe to call from any hook. Returns the count.
LEAKSCOPE_HIDDEN int capture_stack(uintptr_t* pcs, int max, int skip);

// Interns a stack in the bounded global table; returns its id (> 0), or 0 when the table is full
// (the caller then counts the event under the overflow stack).
LEAKSCOPE_HIDDEN uint32_t intern_stack(const uintptr_t* pcs, int n);

// Copies the pcs of stack `id` into out (up to max); returns the count (0 for unknown ids).
LEAKSCOPE_HIDDEN int stack_pcs(uint32_t id, uintptr_t* out, int max);

// ---- profiles ------------------------------------------------------------------------------
// Builds a raw-address pprof profile: samples over stacks of addresses, with the process's
// mappings (path, offset, build ID) so that pprof, go tool pprof and the CLI symbolize it.
// Call only with a ReentryGuard held (it allocates).
class LEAKSCOPE_HIDDEN ProfileBuilder {
 public:
  ProfileBuilder(std::vector<ValueType> sample_types, ValueType period_type, int64_t period);
  ~ProfileBuilder();
  ProfileBuilder(const ProfileBuilder&) = delete;
  ProfileBuilder& operator=(const ProfileBuilder&) = delete;
  // `pcs` leaf first, as capture_stack() returns them: return addresses, which the builder
  // stores as pc - 1 (the call instruction), as pprof expects. Samples with equal stacks and
  // labels are summed.
  void add(const uintptr_t* pcs, int n, const std::vector<int64_t>& values,
           const std::vector<Label>& labels = {});
  // A sample at a pseudo-frame with a given name, e.g. "[leakscope: overflow]" or
  // "[unknown origin]"; the frame is a symbolized location with no mapping.
  void add_named(const std::string& frame, const std::vector<int64_t>& values,
                 const std::vector<Label>& labels = {});
  void set_default_sample_type(std::string type);
  void add_comment(std::string comment);
  Profile finish();  // attaches mappings from /proc/self/maps, compacts ids

 private:
  struct Impl;
  Impl* impl_;
};

// Encodes a finished profile as gzip'd protobuf (the body of a /debug/pprof/* response).
LEAKSCOPE_HIDDEN std::string encode_profile_bytes(const Profile& profile);

// ---- debug server --------------------------------------------------------------------------
struct HttpRequest {
  std::string method;  // "GET", "POST"
  std::string path;    // without the query, e.g. "/debug/pprof/heap"
  std::string query;   // raw, without '?'
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // Value of query parameter `key` (percent-decoded), or `fallback`.
  std::string param(const std::string& key, const std::string& fallback = "") const;
  // Value of header `name` (lower-case), or "".
  std::string header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using RouteHandler = void (*)(const HttpRequest&, HttpResponse&);

// Registers a handler for an exact path. Call from a subsystem's init (before the server
// starts); the index page at /debug/pprof/ lists every route registered with a description.
LEAKSCOPE_HIDDEN void register_route(const char* path, const char* description,
                                     RouteHandler handler);

// ---- logging ---------------------------------------------------------------------------------
// Writes "leakscope: <message>\n" to stderr with write(2): no allocation, no stdio lock.
LEAKSCOPE_HIDDEN void agent_log(const char* message);

// ---- subsystems ----------------------------------------------------------------------------
// An on/off environment variable: 1, true, yes, on / 0, false, no, off; unset or anything else
// is `fallback` (config.cc). The one rule for every LEAKSCOPE_ switch.
LEAKSCOPE_HIDDEN bool env_switch(const char* name, bool fallback);

// Each tracker's init, called once by the agent's constructor in this order, after the real
// functions are resolved and before the server starts. They register their routes.
LEAKSCOPE_HIDDEN void heap_init();
LEAKSCOPE_HIDDEN void threads_init();
LEAKSCOPE_HIDDEN void fds_init();

// ---- figures for /metrics (agent/server/metrics.cc) ----------------------------------------
// What a tracker tells /metrics, read from its table with atomic loads and cheap syscalls only:
// no stack, no lock a hook takes, no profile built. `on` is false when the tracker is off
// (LEAKSCOPE_THREADS=0, LEAKSCOPE_FDS=0).
struct TrackerFigures {
  bool on = false;
  std::vector<std::pair<const char*, int64_t>> live;  // by state (threads) or kind (fds)
  int64_t entries = 0;      // table slots in use, the agent's own included
  int64_t capacity = 0;     // table slots
  int64_t overflow = 0;     // events not recorded because the table was full
  int64_t table_bytes = 0;  // the table's static storage (untouched pages cost nothing)
};
LEAKSCOPE_HIDDEN TrackerFigures threads_figures();
LEAKSCOPE_HIDDEN TrackerFigures fds_figures();

// A tracker's profile for a dump to LEAKSCOPE_DUMP_DIR (gzip'd pprof), or "" when it is off.
LEAKSCOPE_HIDDEN std::string threads_dump_profile();
LEAKSCOPE_HIDDEN std::string fds_dump_profile();

// Called in the child after fork() (from the agent's pthread_atfork handler): reset locks and
// per-process state; the child keeps working with its own copy of the tables.
LEAKSCOPE_HIDDEN void threads_after_fork_child();
LEAKSCOPE_HIDDEN void fds_after_fork_child();

}  // namespace leakscope::agent
