// See patterns.h. Matching runs in two passes: first the findings whose evidence is their own
// (goroutine and thread stacks, descriptor labels, metric series, the shape of a series), then
// those that borrow from the first (a heap site in a function whose threads never end; the
// descriptors counted from /proc). Each matcher answers with the pattern and one clause of
// evidence naming the frame, label or finding that matched; the catalogue's words are in
// patterns_text.cc.
#include "core/analysis/patterns.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <string_view>

#include "core/analysis/patterns_evidence.h"
#include "core/analysis/patterns_text.h"
#include "core/analysis/sites.h"

namespace leakscope::analysis {
namespace {

using namespace evidence;  // NOLINT: the matchers below are written in its words

// ---- Go: goroutines, and the memory and descriptors that go with them ----------------------

constexpr std::string_view kConnLoops[] = {"net/http.(*persistConn).readLoop",
                                           "net/http.(*persistConn).writeLoop"};
constexpr std::string_view kHttpCall[] = {"net/http.(*Client).",
                                          "net/http.(*Transport).roundTrip",
                                          "net/http.(*persistConn).roundTrip",
                                          "net/http.Get",
                                          "net/http.Post",
                                          "net/http.Head"};
constexpr std::string_view kConnMade[] = {"net/http.(*Transport).dialConn",
                                          "net/http.(*persistConn)."};
constexpr std::string_view kIoWait[] = {"net/http.(*persistConn).roundTrip",
                                        "internal/poll.runtime_pollWait", "net.(*conn).Read",
                                        "internal/poll.(*FD).Read"};
constexpr std::string_view kAccept[] = {"Accept", "accept"};
constexpr std::string_view kChan[] = {"runtime.chansend", "runtime.chanrecv", "runtime.selectgo",
                                      "runtime.block"};
constexpr std::string_view kSleep[] = {"time.Sleep"};
constexpr std::string_view kLockWait[] = {"sync.(*Mutex).Lock", "sync.(*RWMutex).",
                                          "sync.(*WaitGroup).Wait", "sync.(*Cond).Wait",
                                          "sync.runtime_Semacquire"};
constexpr std::string_view kContext[] = {"context.WithCancel",
                                         "context.WithTimeout",
                                         "context.WithDeadline",
                                         "context.propagateCancel",
                                         "context.(*cancelCtx).propagateCancel",
                                         "context.withCancel"};
constexpr std::string_view kTimers[] = {"time.After", "time.NewTimer", "time.NewTicker",
                                        "time.Tick", "time.AfterFunc"};
constexpr std::string_view kGoOpen[] = {"os.Open", "os.OpenFile", "os.newFile", "os.Create"};

// The user's functions whose stacks (heap or goroutines) pass through net/http's client: those
// with a leak finding first, then by size. At most three.
std::vector<std::string> http_callers(const Context& c) {
  std::vector<std::pair<double, std::string>> ranked;
  for (const SiteSeries& s : c.run.sites) {
    if (s.signal != Signal::kHeap && s.signal != Signal::kGoroutines) continue;
    if (s.site >= s.stack.size() || is_runtime_frame(s.stack[s.site])) continue;
    if (find_frame(s.stack, kHttpCall) == nullptr) continue;
    std::string fn = site_function(s);
    bool leaks = std::any_of(c.findings.begin(), c.findings.end(), [&](const Finding& f) {
      return is_leak(f) && related(f.site.function, fn);
    });
    double rank = (leaks ? 1e18 : 0) + std::max(0.0, last_of(s.values));
    auto it =
        std::find_if(ranked.begin(), ranked.end(), [&](const auto& r) { return r.second == fn; });
    if (it == ranked.end())
      ranked.push_back({rank, fn});
    else
      it->first = std::max(it->first, rank);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a > b; });
  if (!ranked.empty() && ranked[0].first >= 1e18)  // callers that leak themselves: only those
    std::erase_if(ranked, [](const auto& r) { return r.first < 1e18; });
  std::vector<std::string> out;
  for (size_t i = 0; i < ranked.size() && i < 3; ++i) out.push_back(ranked[i].second);
  return out;
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
  return s;
}

// Leak findings of goroutines in net/http's connection loops, summed.
double conn_loop_goroutines(const Context& c) {
  double n = 0;
  for (const Finding& f : c.findings)
    if (is_leak(f) && f.kind == Signal::kGoroutines && find_frame(f.stack, kConnLoops))
      n += f.growth;
  return n;
}

std::string made_by(const Context& c) {
  auto callers = http_callers(c);
  if (callers.empty()) return "; no stack of the user's code through net/http's client was sampled";
  return "; requests made by " + joined(callers) + " (stacks through net/http's client)";
}

std::optional<Pattern> go_http_goroutines(const Finding& f, const Context& c) {
  if (f.kind != Signal::kGoroutines) return std::nullopt;
  const Frame* loop = find_frame(f.stack, kConnLoops);
  if (loop == nullptr) return std::nullopt;
  return make_pattern("http-body-not-closed",
                      "+" + count_of(f.growth) + " goroutines in " + loop->function +
                          ", net/http's own loop of an open client connection" + made_by(c));
}

// Descriptors from /proc, and heap in a function that calls net/http's client, while the
// connections' goroutines stay.
std::optional<Pattern> go_http_borrowed(const Finding& f, const Context& c) {
  if (f.kind == Signal::kFds && f.stack.empty()) {
    double loops = conn_loop_goroutines(c);
    if (loops <= 0) return std::nullopt;
    return make_pattern("http-body-not-closed",
                        "descriptors (from /proc, no stacks) grew by " + count_of(f.growth) +
                            " while +" + count_of(loops) +
                            " goroutines of net/http's client connections (readLoop/writeLoop) "
                            "stayed" +
                            made_by(c));
  }
  if (f.kind == Signal::kHeap && conn_loop_goroutines(c) > 0 && find_frame(f.stack, kConnMade))
    return make_pattern("http-body-not-closed",
                        "made by " + find_frame(f.stack, kConnMade)->function +
                            " (a client connection's own buffers), while +" +
                            count_of(conn_loop_goroutines(c)) +
                            " goroutines of net/http's client connections stayed" + made_by(c));
  if (f.kind == Signal::kHeap && conn_loop_goroutines(c) > 0) {
    Hit h = find_in_function(c, f.kind, f.site.function, kHttpCall, false);
    if (h.function.empty()) return std::nullopt;
    return make_pattern("http-body-not-closed",
                        f.site.function + " calls " + h.function + " (on its stacks), and +" +
                            count_of(conn_loop_goroutines(c)) +
                            " goroutines of net/http's client connections stayed");
  }
  return std::nullopt;
}

std::optional<Pattern> go_goroutine_wait(const Finding& f, const Context&) {
  if (f.kind != Signal::kGoroutines) return std::nullopt;
  std::string at = " goroutines at " + name_of(f) + " wait in ";
  std::string n = "+" + count_of(f.growth);
  const Frame* io = find_frame(f.stack, kIoWait);
  if (io != nullptr && find_frame(f.stack, kAccept) != nullptr) io = nullptr;  // a server's loop
  if (const Frame* w = io)
    return make_pattern("call-no-timeout", n + at + w->function + " (waiting for a reply)");
  if (const Frame* w = find_frame(f.stack, kContext))
    return make_pattern("context-not-cancelled", n + at + w->function);
  if (const Frame* w = find_frame(f.stack, kChan)) {
    std::string op = has_any(w->function, std::array<std::string_view, 1>{"chansend"}) ? "chan send"
                     : has_any(w->function, std::array<std::string_view, 1>{"chanrecv"})
                         ? "chan receive"
                     : has_any(w->function, std::array<std::string_view, 1>{"block"}) ? "select {}"
                                                                                      : "select";
    return make_pattern("goroutine-chan-blocked", n + at + w->function + " (" + op + ")");
  }
  if (const Frame* w = find_frame(f.stack, kSleep))
    return make_pattern("goroutine-sleep", n + at + w->function);
  if (const Frame* w = find_frame(f.stack, kLockWait))
    return make_pattern("goroutine-lock-wait", n + at + w->function);
  return std::nullopt;
}

// ---- native threads and descriptors ---------------------------------------------------------

constexpr std::string_view kSocketCalls[] = {"socket", "connect", "accept"};
constexpr std::string_view kFileCalls[] = {"open",    "fopen",      "creat",
                                           "os.Open", "File::open", "OpenOptions"};
constexpr std::string_view kPipeCalls[] = {"pipe"};
// The agent's wait label: system calls of I/O, where a thread waits for a peer.
constexpr std::string_view kIoWaits[] = {"read", "recv", "poll", "select", "connect"};

// The kind of a descriptor site: its `kind` label, else the call at the leaf of its stack.
std::string fd_kind(const Finding& f, const SiteSeries* s, Dominant* d) {
  *d = dominant(s, "kind");
  if (!d->value.empty() && d->count * 2 >= d->total) return d->value;
  if (f.stack.empty()) return "";
  const std::string& leaf = f.stack[0].function;
  if (has_any(leaf, kSocketCalls)) return "socket";
  if (has_any(leaf, kPipeCalls)) return "pipe";
  if (has_any(leaf, kFileCalls)) return "file";
  return "";
}

// A leak of sockets made in `fn` (the threads' function), with the peer most of them reach.
const Finding* socket_leak_in(const Context& c, const std::string& fn, Dominant* peer) {
  for (const Finding& g : c.findings) {
    if (!is_leak(g) || g.kind != Signal::kFds || !related(g.site.function, fn)) continue;
    const SiteSeries* s = series_of(g, c);
    Dominant kind;
    if (fd_kind(g, s, &kind) != "socket") continue;
    *peer = dominant(s, "peer");
    return &g;
  }
  return nullptr;
}

const Finding* thread_leak_in(const Context& c, const std::string& fn) {
  for (const Finding& g : c.findings)
    if (is_leak(g) && (g.kind == Signal::kThreads || g.kind == Signal::kGoroutines) &&
        related(g.site.function, fn))
      return &g;
  return nullptr;
}

std::string peer_clause(const Dominant& peer) {
  if (peer.value.empty()) return "";
  return ", " + count_of(peer.count) + " of " + count_of(peer.total) + " to " + peer.value;
}

std::optional<Pattern> native_threads(const Finding& f, const Context& c) {
  if (f.kind != Signal::kThreads || f.site.function.empty()) return std::nullopt;
  const SiteSeries* s = series_of(f, c);
  std::string n = "+" + count_of(f.growth) + " threads created at " + f.site.function;
  Dominant state = dominant(s, "state");
  if (state.value == "exited-unjoined" && state.count * 2 >= state.total)
    return make_pattern("thread-not-joined",
                        n + "; " + count_of(state.count) + " of " + count_of(state.total) +
                            " have exited and were never joined (label state=exited-unjoined)");
  Dominant wait = dominant(s, "wait");
  bool waits = !wait.value.empty() && wait.count * 2 >= wait.total;
  std::string in = waits ? "; " + count_of(wait.count) + " of " + count_of(wait.total) +
                               " wait in " + wait.value + " (label wait=" + wait.value + ")"
                         : "";
  if (waits && has_any(wait.value, kIoWaits))
    return make_pattern("call-no-timeout", n + " stay alive" + in);
  Dominant peer;
  if (const Finding* sockets = socket_leak_in(c, f.site.function, &peer))
    return make_pattern("call-no-timeout",
                        n + " stay alive" + in + ", and the same function leaks +" +
                            count_of(sockets->growth) + " sockets" + peer_clause(peer));
  std::string state_text = state.value.empty() ? "" : " (label state=" + state.value + ")";
  return make_pattern("thread-parked", n + " stay alive" + state_text + in +
                                           " and their count never came down in cooldown");
}

std::optional<Pattern> native_fds(const Finding& f, const Context& c) {
  if (f.kind != Signal::kFds || f.stack.empty()) return std::nullopt;
  const SiteSeries* s = series_of(f, c);
  Dominant kind;
  std::string k = fd_kind(f, s, &kind);
  std::string n = "+" + count_of(f.growth) + " descriptors created at " + name_of(f);
  std::string by = kind.value.empty() ? " (by the call " + f.stack[0].function + ")"
                                      : " (label kind=" + kind.value + ")";
  if (k == "socket") {
    Dominant peer = dominant(s, "peer");
    if (const Finding* t = thread_leak_in(c, f.site.function))
      return make_pattern("call-no-timeout", n + ", sockets" + by + peer_clause(peer) +
                                                 ", while +" + count_of(t->growth) +
                                                 " threads made in the same function stay");
    return make_pattern("socket-not-closed", n + ", sockets" + by + peer_clause(peer));
  }
  if (k == "file") {
    Dominant path = dominant(s, "path");
    std::string where = path.value.empty() ? ""
                                           : ", " + count_of(path.count) + " of " +
                                                 count_of(path.total) + " on " + path.value;
    return make_pattern("file-not-closed", n + ", files" + by + where);
  }
  if (k == "pipe") return make_pattern("pipe-not-closed", n + ", pipes" + by);
  if (!k.empty()) return make_pattern("fd-not-closed", n + ", of kind " + k + by);
  return std::nullopt;
}

// ---- heap: containers, shared_ptr, and memory held by something else's leak ----------------

// A container growing, by (type, operation) both in the frame's name: push_back reallocating, a
// hash table inserting or rehashing, a tree inserting; Go's growslice and mapassign.
constexpr std::pair<std::string_view, std::string_view> kGrowth[] = {
    {"std::vector<", "_M_realloc"},
    {"std::vector<", "_M_default_append"},
    {"std::vector<", "push_back"},
    {"std::vector<", "emplace_back"},
    {"std::vector<", "_M_range_insert"},
    {"std::vector<", "reserve"},
    {"std::deque<", "_M_push"},
    {"std::deque<", "_M_reserve_map"},
    {"std::_Hashtable<", "_M_insert"},
    {"std::_Hashtable<", "_M_emplace"},
    {"std::_Hashtable<", "_M_rehash"},
    {"std::__detail::_Map_base", "operator[]"},
    {"std::_Rb_tree<", "_M_insert"},
    {"std::_Rb_tree<", "_M_emplace"},
    {"std::map<", "operator[]"},
    {"std::__cxx11::list<", "_M_insert"},
    {"std::list<", "_M_insert"},
    {"RawVec", "grow"},
    {"RawVec", "reserve"},
    {"alloc::vec::Vec<", "push"},
    {"hashbrown::", "reserve"},
    {"hashbrown::", "insert"},
    {"HashMap<", "insert"},
    {"BTreeMap<", "insert"},
    {"VecDeque<", "grow"},
    {"runtime.growslice", ""},
    {"runtime.mapassign", ""},
    {"runtime.hashGrow", ""},
    {"internal/runtime/maps.", "grow"}};
// A byte buffer being built (Rust's Vec<u8>, String) grows too, but is the record, not a container.
constexpr std::string_view kByteBuffers[] = {"Vec<u8>>::", "Vec<u8> as ", "String"};

bool is_growth(const std::string& name) {
  return std::any_of(std::begin(kGrowth), std::end(kGrowth), [&](const auto& g) {
    return name.find(g.first) != std::string::npos && name.find(g.second) != std::string::npos;
  });
}

// The first growth frame leafward of the site, unless the stack builds a byte buffer.
const Frame* pick_growth(const std::vector<Frame>& stack, size_t end, Needles) {
  const Frame* hit = nullptr;
  for (size_t i = 0; i < stack.size() && i < end; ++i) {
    if (has_any(stack[i].function, kByteBuffers)) return nullptr;
    if (hit == nullptr && is_growth(stack[i].function)) hit = &stack[i];
  }
  return hit;
}
constexpr std::string_view kSharedPtr[] = {"std::_Sp_counted_ptr_inplace", "std::make_shared",
                                           "std::allocate_shared", "std::__shared_count"};
constexpr std::string_view kNativeOpen[] = {"fopen", "std::basic_filebuf", "std::basic_ifstream",
                                            "std::basic_ofstream"};

// Descriptors counted from /proc (no stacks) while the heap of a function that opens files grows.
std::optional<Pattern> proc_fds_files(const Finding& f, const Context& c) {
  if (f.kind != Signal::kFds || !f.stack.empty()) return std::nullopt;
  for (const Finding& g : c.findings) {
    if (!is_leak(g) || g.kind != Signal::kHeap || g.site.function.empty()) continue;
    Hit h = find_in_function(c, g.kind, g.site.function, kGoOpen, false);
    if (h.function.empty()) h = find_in_function(c, g.kind, g.site.function, kNativeOpen, true);
    if (h.function.empty()) continue;
    return make_pattern("file-not-closed", "descriptors (from /proc, no stacks) grew by " +
                                               count_of(f.growth) + " while the heap of " +
                                               g.site.function + ", which calls " + h.function +
                                               ", grew and stayed");
  }
  return std::nullopt;
}

// The Go runtime's own memory for new goroutines (runtime.malg: the g and its stack), while
// goroutines leak: their cost, with the pattern of the largest goroutine leak.
std::optional<Pattern> goroutine_memory(const Finding& f, const Context& c) {
  if (f.kind != Signal::kHeap || f.site.function != "runtime.malg") return std::nullopt;
  const Finding* top = nullptr;
  for (const Finding& g : c.findings)
    if (is_leak(g) && g.kind == Signal::kGoroutines && is_leak_pattern(g.pattern.id) &&
        (top == nullptr || g.growth > top->growth))
      top = &g;
  if (top == nullptr) return std::nullopt;
  Pattern p = make_pattern(top->pattern.id, "");
  p.evidence = "runtime.malg makes the runtime's record of each new goroutine, and +" +
               count_of(top->growth) + " goroutines at " + name_of(*top) + " leak (" +
               top->pattern.id + ")";
  return p;
}

// Memory made in the function whose threads or goroutines never end: what they hold.
std::optional<Pattern> held_by_threads(const Finding& f, const Context& c) {
  if (f.kind != Signal::kHeap && f.kind != Signal::kMmap) return std::nullopt;
  const Finding* t = thread_leak_in(c, f.site.function);
  if (t == nullptr || t->pattern.id.empty() || t->pattern.id == "none") return std::nullopt;
  Pattern p = make_pattern(t->pattern.id, "");
  p.evidence = name_of(f) + " also leaks +" + count_of(t->growth) + " " + to_string(t->kind) +
               " (" + t->pattern.id + ": " + t->pattern.evidence + "): this is what they hold";
  return p;
}

// A site of function `fn` holding a few large objects whose bytes grew: an array appended to (a
// slice's, vector's or hash map's backing store). Go's heap profiles hide the runtime frames that
// made it (growslice, mapassign), so this is how a Go container shows.
std::optional<std::string> growing_array(const Context& c, Signal signal, const std::string& fn) {
  for (const SiteSeries& s : c.run.sites) {
    if (s.signal != signal || site_function(s) != fn || !(s.large_objects > 0)) continue;
    double first = NAN;
    for (double v : s.values)
      if (std::isnan(first) && !std::isnan(v)) first = v;
    double bytes = s.large_bytes;
    double n = std::max(1.0, std::round(s.large_objects));
    if (n > 4 || bytes - first < 16 * 1024 || bytes < 4 * first) continue;
    const Frame& site = s.stack[s.site];
    return fn + (site.line > 0 ? " line " + std::to_string(site.line) : std::string()) + " holds " +
           count_of(n) + (n == 1 ? " object of " : " objects of ") + human(bytes, "bytes") +
           " that grew from " + human(std::max(0.0, first), "bytes") +
           ": an array appended to (a slice's, vector's or map's backing store)";
  }
  return std::nullopt;
}

std::optional<Pattern> heap_frames(const Finding& f, const Context& c) {
  if (f.kind != Signal::kHeap || f.site.function.empty()) return std::nullopt;
  const std::string& fn = f.site.function;
  auto on_stacks = [&](const char* what, const Hit& h) {
    return fn + " " + what + " " + h.function + " (on its stacks at the end of the run)";
  };
  Hit h = find_in_function(c, f.kind, fn, kContext, false);
  if (!h.function.empty()) return make_pattern("context-not-cancelled", on_stacks("calls", h));
  h = find_in_function(c, f.kind, fn, kTimers, false);
  if (!h.function.empty()) return make_pattern("go-timer-not-stopped", on_stacks("calls", h));
  h = find_in_function(c, f.kind, fn, kGoOpen, false);
  if (h.function.empty()) h = find_in_function(c, f.kind, fn, kNativeOpen, true);
  if (!h.function.empty()) return make_pattern("file-not-closed", on_stacks("opens files:", h));
  h = find_in_function(c, f.kind, fn, {}, true, pick_growth);
  if (!h.function.empty())
    return make_pattern("container-growth",
                        on_stacks("grows a container:", h) + "; the memory did not come back");
  if (auto array = growing_array(c, f.kind, fn))
    return make_pattern("container-growth", *array + "; the memory did not come back");
  h = find_in_function(c, f.kind, fn, kSharedPtr, true);
  if (!h.function.empty() && h.share() >= 0.5)
    return make_pattern("shared-ptr-cycle",
                        on_stacks("makes", h) + ", " +
                            std::to_string(static_cast<int>(std::lround(h.share() * 100))) +
                            "% of its bytes, and no container frame is under it");
  return std::nullopt;
}

// What the values of a label look like, from a few of them.
std::string looks_like(const MetricLabel& l) {
  auto all = [&](auto pred) {
    return !l.examples.empty() && std::all_of(l.examples.begin(), l.examples.end(), pred);
  };
  if (all([](const std::string& v) { return v.find('?') != std::string::npos; }))
    return "raw paths with their query strings";
  if (all([](const std::string& v) { return !v.empty() && v[0] == '/'; })) return "raw paths";
  if (all([](const std::string& v) {
        return v.size() >= 4 && std::all_of(v.begin(), v.end(), [](char ch) {
                 return std::isxdigit(static_cast<unsigned char>(ch)) || ch == '-';
               });
      }))
    return "ids";
  return "values that grow with traffic";
}

std::optional<Pattern> metric_labels(const Finding& f, const Context& c) {
  if (f.kind != Signal::kMetrics) return std::nullopt;
  std::string e = "metric family " + f.metric + " gained " + count_of(f.growth) +
                  " series under load (" + human(f.growth_per_s, "series") +
                  "/s) and none went away";
  auto it = c.run.metric_labels.find(f.metric);
  const MetricLabel* top = nullptr;
  if (it != c.run.metric_labels.end())
    for (const MetricLabel& l : it->second)
      if (top == nullptr || l.values > top->values) top = &l;
  if (top != nullptr && top->values > 1) {
    std::string examples;
    for (const std::string& v : top->examples) examples += (examples.empty() ? "" : ", ") + v;
    e += "; its label " + top->name + " took " + count_of(static_cast<double>(top->values)) +
         " values at the last scrape, " + looks_like(*top) + " (" + examples + ")";
  }
  return make_pattern("metric-label-unbounded", e);
}

// ---- not a leak ------------------------------------------------------------------------------

struct Shape {
  double start = NAN, mid = NAN, end = NAN, cool = NAN, peak = NAN;
};

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Levels of a finding's series: before the load, at the middle and end of the load, in
// cooldown (medians of a few points), and its peak.
Shape shape_of(const Finding& f, const RunSeries& run) {
  std::vector<double> base, load, cool;
  for (size_t i = 0; i < f.values.size() && i < run.phase.size(); ++i) {
    double v = f.values[i];
    if (std::isnan(v)) continue;
    if (run.phase[i] == Phase::kBaseline) base.push_back(v);
    if (run.phase[i] == Phase::kLoad || run.phase[i] == Phase::kWatch) load.push_back(v);
    if (run.phase[i] == Phase::kCooldown) cool.push_back(v);
  }
  Shape s;
  if (load.size() < 4) return s;
  size_t k = std::max<size_t>(1, load.size() / 5);
  s.start = base.empty() ? median({load.begin(), load.begin() + k}) : median(base);
  size_t half = load.size() / 2;
  s.mid = median({load.begin() + (half >= k ? half - k : 0), load.begin() + half});
  s.end = median({load.end() - k, load.end()});
  s.cool = cool.empty() ? NAN : median({cool.begin() + cool.size() / 2, cool.end()});
  s.peak = *std::max_element(load.begin(), load.end());
  return s;
}

std::optional<Pattern> not_a_leak(const Finding& f, const Context& c) {
  if (f.verdict == Verdict::kRetention) {
    Pattern p = make_pattern("allocator-retention",
                             "judged retention: memory held in cooldown while the live heap came "
                             "back (the figures above)");
    p.fix = allocator_retention_fix(c.run.go_runtime);
    return p;
  }
  if (f.verdict == Verdict::kLeak) return std::nullopt;
  Shape s = shape_of(f, c.run);
  double rise = s.peak - s.start;
  if (std::isnan(rise) || rise <= 0) return std::nullopt;
  const char* unit = unit_of(f.kind);
  bool memory = f.kind == Signal::kHeap || f.kind == Signal::kRss;
  if (c.run.go_runtime && memory && !std::isnan(s.cool) && s.cool - s.start < 0.5 * rise)
    return make_pattern("gc-wave", "rose " + human(rise, unit) + " under load and came back to " +
                                       human(s.cool, unit) + " in cooldown (a Go program)");
  if (s.mid - s.start >= 0.8 * (s.end - s.start) && s.end - s.start >= 0.5 * rise)
    return make_pattern("cache-filled", "rose " + human(s.mid - s.start, unit) +
                                            " in the first half of the load, then " +
                                            human(s.end - s.mid, unit) + " in the second");
  return std::nullopt;
}

// Pass 1: evidence of the finding's own. Pass 2: evidence borrowed from pass 1's findings.
constexpr Matcher kOwn[] = {go_http_goroutines, go_goroutine_wait, native_threads, metric_labels,
                            not_a_leak};
constexpr Matcher kBorrowed[] = {held_by_threads, go_http_borrowed, goroutine_memory,
                                 native_fds,      proc_fds_files,   heap_frames};

bool run_matchers(Finding& f, const Context& c, std::span<const Matcher> matchers) {
  for (Matcher m : matchers) {
    auto p = m(f, c);
    if (!p) continue;
    bool leak_pattern = is_leak_pattern(p->id);
    if (leak_pattern != (f.verdict == Verdict::kLeak)) continue;
    f.pattern = std::move(*p);
    return true;
  }
  return false;
}

}  // namespace

void match_patterns(const RunSeries& run, std::vector<Finding>& findings) {
  Context c{run, findings};
  for (Finding& f : findings) f.pattern = Pattern{};
  for (Finding& f : findings) run_matchers(f, c, kOwn);
  for (Finding& f : findings)
    if (f.pattern.id.empty() && !run_matchers(f, c, kBorrowed)) f.pattern = no_pattern(f);
}

}  // namespace leakscope::analysis
