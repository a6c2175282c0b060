// The thread tracker: every thread the process started through pthread_create, from creation to
// the point where its resources are gone (exit if detached, join otherwise), with its creation
// stack.
//
// A record per thread, in a fixed-size table of slots. Lifecycle of a slot's state word (every
// transition is one CAS on that word, so exit, join and detach may race freely):
//
//      reserve()            started()           exited()                joined()
//   kFree ───────► kReserved ───────► kRunning ─────────► kExited ─────────────► kFree
//     ▲              │ create failed      │ exited() with kDetached set         ▲
//     └──────────────┘                    └─────────────────────────────────────┘
//   detached(): sets kDetached; on a kExited record it frees the slot at once.
//   A slot is only ever freed once its creator published it (kPublished, see publish()).
//   The word's top 16 bits count the slot's occupants (reserve() adds one and nothing else
//   changes them), so a word read once names one occupant: the server books a thread it found
//   gone from /proc with a CAS from exactly the word its snapshot read (gone()), which cannot
//   land on the slot's next occupant. Without it a server preempted between "tid X is dead" and
//   exited() marked a new thread exited before it started; that record was later freed while
//   its thread ran, the thread's own exit then landed on yet another occupant, and one record
//   was left booked forever (seen in CI as a stray thread at the stress site).
//
// kExited is a joinable thread that has finished but was never joined: its stack and descriptor
// are still held, which is itself a leak (reported with state "exited-unjoined"). Threads the
// agent did not create (the main thread, threads from before the agent, raw clone()) have no
// record: they appear as "[unknown origin]" when served, from /proc/self/task.
//
// Everything in this header is pure (no hooks, no agent state), so the unit tests use it alone.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace leakscope::agent {

enum ThreadStateBits : uint32_t {
  kThreadFree = 0,
  kThreadReserved = 1,
  kThreadRunning = 2,
  kThreadExited = 3,
  kThreadStateMask = 0xff,
  kThreadDetached = 1u << 8,    // detached at creation or by pthread_detach
  kThreadAgent = 1u << 9,       // one of the agent's own threads: never reported
  kThreadCancelled = 1u << 10,  // pthread_cancel was called on it
  kThreadExiting = 1u << 11,    // it called pthread_exit
  kThreadPublished = 1u << 12,  // the creator has stored the handle: the slot may be freed
  kThreadJoining = 1u << 13,    // a join is in progress: only the joiner may free it
  kThreadFlagsMask = 0xff00,
  kThreadGenerationOne = 1u << 16,  // the occupant count, bits 16-31 (wraps; see above)
  kThreadGenerationMask = 0xffff0000u,
};

struct ThreadRecord {
  std::atomic<uint32_t> word{0};    // generation | flags | state; see the file comment
  std::atomic<int32_t> tid{0};      // kernel thread id; 0 until the thread first runs
  std::atomic<uint64_t> handle{0};  // pthread_t; 0 until known
  uint32_t stack_id = 0;            // creation stack (0: the stack table was full); set at reserve
  int64_t created_ns = 0;           // CLOCK_REALTIME at creation
  void* (*start)(void*) = nullptr;  // the wrapped start routine and its argument
  void* arg = nullptr;
};

// A copy of one record, for serving.
struct ThreadInfo {
  pid_t tid = 0;
  uint64_t handle = 0;
  uint32_t state = 0;  // kThreadRunning or kThreadExited
  uint32_t flags = 0;
  uint32_t stack_id = 0;
  int64_t created_ns = 0;
  int slot = -1;      // index of the record in the table
  uint32_t word = 0;  // the whole state word as read: names this occupant (see gone())
};

class ThreadTable {
 public:
  // constexpr: constant-initialized in the agent (see FdTable).
  constexpr ThreadTable(ThreadRecord* slots, int capacity) : slots_(slots), capacity_(capacity) {}

  int capacity() const { return capacity_; }
  // A free slot for a thread about to be created, or nullptr (and an overflow count) if full.
  ThreadRecord* reserve(uint32_t stack_id, uint32_t flags, int64_t now_ns);
  // The real pthread_create failed: the slot goes back.
  void unreserve(ThreadRecord* r);
  // In the creator, once the real pthread_create returned: stores the handle and allows the
  // slot to be freed from now on (until then a thread that already exited and was detached or
  // joined stays kExited, and publish() frees it). This keeps a creator from writing into a
  // slot that was freed and reused under it.
  void publish(ThreadRecord* r, uint64_t handle);
  // In the new thread, before its start routine.
  void started(ThreadRecord* r, pid_t tid, uint64_t handle);
  // At thread exit, in the thread (its TSD destructor).
  void exited(ThreadRecord* r);
  // The server found the thread of a snapshot's running record gone from the kernel without
  // its TSD destructor (a raw exit syscall): books its exit only if the record still holds
  // exactly the word the snapshot read (same occupant, same state). False if anything changed;
  // the next scan sees the record again.
  bool gone(const ThreadInfo& seen);
  // Join and detach. The instant a real join or detach succeeds, glibc may hand the same
  // pthread_t to a new thread, whose creator may then look it up: so the hooks claim the record
  // *before* the real call. A join marks it kThreadJoining (begin_join), which hides it from
  // every other lookup, and frees it or clears the mark after (end_join). A detach is booked
  // before the real call (detached): it sets kThreadDetached, which hides it too, or frees it at
  // once if the thread already exited.
  ThreadRecord* begin_join(uint64_t handle);
  void end_join(ThreadRecord* r, bool success);
  bool joined(ThreadRecord* r);
  bool detached(ThreadRecord* r);
  bool joined(uint64_t handle) { return joined(find(handle, true)); }
  bool detached(uint64_t handle) { return detached(find(handle, true)); }
  void set_flag(ThreadRecord* r, uint32_t flag);
  // The live record of the thread with this handle; joinable_only skips records that are
  // detached or being joined (their handle may already belong to a newer thread).
  ThreadRecord* find(uint64_t handle, bool joinable_only = false);
  ThreadRecord* slot(int index);
  // Live (kRunning) and exited-unjoined records, agent threads excluded unless asked.
  std::vector<ThreadInfo> snapshot(bool include_agent = false) const;
  // Tids of the agent's own threads.
  std::vector<pid_t> agent_tids() const;
  // In a fork child: only the calling thread survives. Frees every other record; `self` (may be
  // null) keeps its record with the child's tid. Writes only the records in use (the table's
  // pages are shared copy-on-write with the parent); returns how many it wrote.
  int after_fork_child(ThreadRecord* self, pid_t tid, uint64_t handle);
  int64_t overflow() const { return overflow_.load(std::memory_order_relaxed); }

 private:
  void release(ThreadRecord* r);
  // One CAS from `w` to the exit's next word (freed if detached and published, else kExited);
  // on failure `w` is the current word.
  bool book_exit(ThreadRecord* r, uint32_t& w);

  ThreadRecord* slots_;
  int capacity_;
  std::atomic<int> high_water_{0};  // slots [0, high_water_) have been used at least once
  std::atomic<int> hint_{0};        // where the next reserve() starts looking
  std::atomic<int64_t> in_use_{0};  // records not free, or about to be claimed: never below the
                                    // truth (raised before a claim, lowered after a release)
  std::atomic<int64_t> overflow_{0};
};

// ---- agent side (track_threads_*.cc) ----------------------------------------------------------
inline constexpr int kThreadTableCapacity = 16384;
ThreadTable& thread_table();
void threads_register_routes();  // track_threads_serve.cc
// True once threads_init() switched tracking on (track_threads_hooks.cc).
bool threads_tracking();
// Bytes of the table's static storage.
int64_t thread_table_bytes();
// The /debug/pprof/threads profile, gzip'd protobuf (for dumps to a directory).
std::string threads_profile_bytes();

// Captures the current stack of thread `tid` of this process by a signal to it. Returns the
// frame count (0 with `why` set when it could not: signal blocked, handler replaced, timeout).
// Server thread only; waits at most timeout_ms.
// *why: on 0, why there is no stack; on success, nullptr, or a note on a partial stack.
int capture_thread_stack(pid_t tid, uintptr_t* pcs, int max, int timeout_ms, const char** why);
void thread_signal_after_fork_child();

}  // namespace leakscope::agent
