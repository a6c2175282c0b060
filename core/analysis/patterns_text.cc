// See patterns_text.h. One row per pattern; the order is the catalogue's (pattern_catalogue()).
#include "core/analysis/patterns_text.h"

#include <array>

#include "core/analysis/patterns.h"

namespace leakscope::analysis {
namespace {

struct Words {
  PatternEntry entry;
  const char* cause;
  const char* fix;
};

constexpr std::array<Words, 19> kWords = {{
    {{"http-body-not-closed", "HTTP client connections never released (Go)", true},
     "HTTP responses whose body is never closed (or calls that never finish): each keeps its "
     "connection, its descriptor and net/http's readLoop and writeLoop goroutines",
     "defer resp.Body.Close() after every successful call and drain the body (io.Copy(io.Discard, "
     "resp.Body)) so the connection is reused; give the client a Timeout, or each request a "
     "context with a deadline"},
    {{"call-no-timeout", "a call with no timeout waits forever", true},
     "calls to a peer with no timeout or deadline: when the peer never answers, the caller (a "
     "thread or goroutine per call) waits forever, holding its connection and buffers",
     "put a deadline on every remote call (http.Client.Timeout, a context deadline, "
     "SO_RCVTIMEO / poll with a timeout); cancel the calls still running once a fan-out has what "
     "it needs (context cancel, shutdown(2)) and join every thread or goroutine started"},
    {{"goroutine-chan-blocked", "goroutines blocked on a channel nobody serves", true},
     "goroutines blocked forever on a channel send, receive or select whose other side is gone "
     "(a result sent on an unbuffered channel after its reader returned; a receive from a channel "
     "nobody sends on or closes)",
     "give the channel room for every sender (make(chan T, n)) or select on ctx.Done() beside the "
     "send or receive; close channels when the producer is done; make every goroutine started per "
     "request able to end"},
    {{"goroutine-sleep", "goroutines sleeping far longer than their request", true},
     "a goroutine started per request sleeps (time.Sleep) or waits on a timer far longer than the "
     "request lives, so they pile up",
     "no per-request goroutine that waits for long: a bounded worker pool and queue made at "
     "start-up, each job with a deadline; wait with select on ctx.Done() and a time.NewTimer you "
     "Stop; for periodic work, one time.Ticker"},
    {{"goroutine-lock-wait", "goroutines waiting on a lock or WaitGroup never released", true},
     "goroutines wait forever on a mutex, a WaitGroup or a Cond that is never released, done or "
     "signalled (an Unlock or Done missed on an error path)",
     "defer mu.Unlock() and wg.Done() right after taking them; bound waits with a context"},
    {{"context-not-cancelled", "contexts whose cancel is never called (Go)", true},
     "context.WithCancel / WithTimeout / WithDeadline whose cancel function is never called: each "
     "child stays in its parent's children map (and its timer runs) until the parent ends",
     "defer cancel() right after every context.WithCancel, WithTimeout or WithDeadline (go vet's "
     "lostcancel check finds the missing ones)"},
    {{"go-timer-not-stopped", "timers made in a loop and never stopped (Go)", true},
     "time.After / time.NewTimer / time.NewTicker made per iteration or request and never "
     "stopped: each timer (and its channel) lives until it fires, a ticker forever",
     "one time.NewTimer reused with Reset, or defer t.Stop(); stop every Ticker; in a select loop "
     "do not call time.After on each iteration"},
    {{"thread-not-joined", "threads that exited but were never joined", true},
     "threads created joinable that end but are never joined: each keeps its stack and descriptor "
     "until pthread_join",
     "join every joinable thread (std::jthread, or a pool), or create it detached"},
    {{"thread-parked", "threads parked forever", true},
     "each call starts a thread that never ends: it waits for something that never comes (a "
     "sleep, a condition, a queue) and is detached, so nothing notices",
     "a bounded pool of threads made at start-up with a bounded queue; give every wait a "
     "deadline; join (or at least count) the threads you start"},
    {{"file-not-closed", "files opened per request and never closed", true},
     "a file opened per request and never closed (a missing close on some path, or the handle "
     "kept in a long-lived structure)",
     "close on every path: RAII (std::ifstream, a unique_fd, Rust's File dropped), defer f.Close() "
     "in Go; do not keep open handles in long-lived lists"},
    {{"socket-not-closed", "sockets to one peer never closed", true},
     "connections opened per request and never closed (a response not read to the end, a "
     "connection not returned to its pool, close() missed on an error path)",
     "close every connection on every path (RAII), or reuse a bounded pool of keep-alive "
     "connections with timeouts, reading every response to the end"},
    {{"pipe-not-closed", "pipes never closed", true},
     "pipes made per request (often for a child process) whose ends are never closed",
     "close both ends after use, the unused end right after fork; use O_CLOEXEC / pipe2"},
    {{"fd-not-closed", "descriptors never closed", true},
     "descriptors (eventfd, timerfd, epoll, memfd...) made per request and never closed",
     "close them with the object that owns them (RAII); make such objects once, not per request"},
    {{"shared-ptr-cycle", "shared_ptr cycles", true},
     "objects owned by shared_ptr that nothing else holds stay alive: most likely a cycle (A owns "
     "B, B owns A, or a callback capturing its own shared_ptr)",
     "break the cycle with std::weak_ptr for back references and self-captures; or reset the link "
     "when the object is done"},
    {{"container-growth", "a container appended per request, never evicted", true},
     "a long-lived container (a global vector, map or slice) gets an entry per request and nothing "
     "removes it",
     "bound it: a ring buffer or a cache with a size limit and eviction (LRU, TTL); erase the "
     "entry when its request ends (a scope guard / defer)"},
    {{"metric-label-unbounded", "a metric label with unbounded values", true},
     "a metric family labelled by something unbounded (a raw path with its query string, an id, a "
     "user): every new value is a new series that the client library keeps forever",
     "label by the route template (/users/:id) or a bounded set of values with an \"other\" "
     "bucket; never by ids, raw URLs or query strings"},
    {{"allocator-retention", "the allocator keeps freed memory (not a leak)", false},
     "the live heap came back but the allocator kept the freed pages mapped: RSS stays high, "
     "nothing is leaked",
     ""},
    {{"cache-filled", "a cache that filled and stayed (not a leak)", false},
     "a bounded structure (a cache, a pool, a buffer) filled in the first part of the load and "
     "then "
     "stayed flat",
     "nothing, if its bound is what you meant; else lower the bound"},
    {{"gc-wave", "a garbage collector's wave (not a leak)", false},
     "the garbage collector let the heap rise under load and collected it in cooldown",
     "nothing; to keep the peak lower, set GOMEMLIMIT or a lower GOGC"},
}};

const Words* find(const std::string& id) {
  for (const Words& w : kWords)
    if (id == w.entry.id) return &w;
  return nullptr;
}

constexpr std::array<PatternEntry, kWords.size()> entries() {
  std::array<PatternEntry, kWords.size()> out{};
  for (size_t i = 0; i < kWords.size(); ++i) out[i] = kWords[i].entry;
  return out;
}

constexpr std::array<PatternEntry, kWords.size()> kEntries = entries();

}  // namespace

std::span<const PatternEntry> pattern_catalogue() { return kEntries; }

Pattern make_pattern(const std::string& id, std::string evidence) {
  Pattern p{id, "", "", std::move(evidence)};
  if (const Words* w = find(id)) {
    p.cause = w->cause;
    p.fix = w->fix;
  }
  return p;
}

bool is_leak_pattern(const std::string& id) {
  const Words* w = find(id);
  return w != nullptr && w->entry.leak;
}

Pattern no_pattern(const Finding& f) {
  Pattern p{"none", "no pattern of the catalogue matched", "", ""};
  switch (f.kind) {
    case Signal::kHeap:
    case Signal::kMmap:
      p.evidence =
          "no container, file, context, timer, HTTP client or shared_ptr frame on the "
          "stacks of " +
          (f.site.function.empty() ? std::string("the site") : f.site.function) +
          ", and no thread or goroutine leak in the same function";
      break;
    case Signal::kGoroutines:
      p.evidence =
          "the goroutines' stacks wait in no channel, sleep, lock, I/O or HTTP frame "
          "the catalogue knows";
      break;
    case Signal::kFds:
      p.evidence = f.stack.empty() ? "descriptors counted from /proc carry no stacks or kinds"
                                   : "the descriptors' kind is not known";
      break;
    default:
      p.evidence = "nothing the catalogue looks for applies to this finding";
  }
  return p;
}

std::string allocator_retention_fix(bool go) {
  if (go)
    return "Go returns freed heap to the OS lazily: GOMEMLIMIT or a lower GOGC bound it, "
           "debug.FreeOSMemory() returns it now";
  return "the allocator kept freed pages: with glibc set MALLOC_TRIM_THRESHOLD_ (e.g. 131072) or "
         "call malloc_trim(0) after bursts, and MALLOC_ARENA_MAX=2 to cap per-thread arenas; with "
         "jemalloc lower dirty_decay_ms (MALLOC_CONF=dirty_decay_ms:1000)";
}

}  // namespace leakscope::analysis
