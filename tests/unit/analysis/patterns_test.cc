// The pattern catalogue on constructed runs: each matcher with the evidence it needs (stacks,
// sibling sites, descriptor and thread labels, the run's other findings), the not-a-leak
// patterns on series that are not leaks, and "none" where nothing matched. The recorded Go
// goroutine profile of tests/data/cli is matched in patterns_recorded_test.cc.
#include "core/analysis/patterns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace leakscope::analysis {
namespace {

constexpr double kKiB = 1024.0;

Frame fn(std::string name, int64_t line = 0, std::string file = "") {
  Frame f;
  f.function = std::move(name);
  f.line = line;
  f.file = std::move(file);
  return f;
}

Label label(std::string key, std::string value) { return Label{key, value, 0, ""}; }

// 5 s baseline, 20 s load, 10 s cooldown, one snapshot a second.
RunSeries make_run() {
  RunSeries r;
  for (int i = 0; i < 35; ++i) {
    r.t_s.push_back(i);
    r.phase.push_back(i < 5 ? Phase::kBaseline : i < 25 ? Phase::kLoad : Phase::kCooldown);
  }
  r.sampling_rate = 16 * 1024;
  return r;
}

// Load seconds done at snapshot i: 0 in baseline, 0..20 under load, 20 in cooldown.
double load_s(size_t i) { return std::clamp(static_cast<double>(i) - 4, 0.0, 20.0); }

struct Site {
  Signal signal;
  std::vector<Frame> stack;
  std::function<double(size_t)> value;
  std::vector<Label> labels = {};
  double objects = NAN;  // in-use objects at each snapshot, when the profile has them
};

RunSeries run_of(const std::vector<Site>& sites, bool go = false) {
  RunSeries r = make_run();
  r.go_runtime = go;
  SiteSeriesBuilder b(r.t_s.size());
  for (size_t i = 0; i < r.t_s.size(); ++i)
    for (const Site& s : sites) b.add(i, s.signal, s.stack, s.value(i), s.labels, s.objects);
  r.sites = b.finish();
  return r;
}

// A leak: `per_s` per second of load, kept in cooldown.
std::function<double(size_t)> leaks(double per_s) {
  return [per_s](size_t i) { return load_s(i) * per_s; };
}

const Finding* find(const Analysis& a, Signal kind, const std::string& function) {
  for (const Finding& f : a.findings)
    if (f.kind == kind && f.site.function == function) return &f;
  return nullptr;
}

std::string pattern_of(const Analysis& a, Signal kind, const std::string& function) {
  const Finding* f = find(a, kind, function);
  EXPECT_NE(f, nullptr) << function;
  if (f == nullptr) return "(no finding)";
  EXPECT_EQ(f->verdict, Verdict::kLeak) << function;
  return f->pattern.id;
}

const std::string kReadLoop = "net/http.(*persistConn).readLoop";
const std::string kWriteLoop = "net/http.(*persistConn).writeLoop";

TEST(Patterns, CatalogueWordsExistForEveryId) {
  for (const PatternEntry& e : pattern_catalogue()) {
    Finding f;
    f.verdict = e.leak ? Verdict::kLeak : Verdict::kNoLeak;
    EXPECT_FALSE(std::string(e.title).empty()) << e.id;
  }
  EXPECT_GE(pattern_catalogue().size(), 15u);
}

TEST(Patterns, GoConnectionGoroutinesAreBodiesNotClosedAndNameTheCaller) {
  RunSeries r =
      run_of({{Signal::kGoroutines,
               {fn("runtime.gopark"), fn("runtime.selectgo"), fn(kReadLoop)},
               leaks(20)},
              {Signal::kGoroutines,
               {fn("runtime.gopark"), fn("runtime.selectgo"), fn(kWriteLoop)},
               leaks(20)},
              {Signal::kHeap,
               {fn("runtime.mallocgc"), fn("net/http.NewRequestWithContext"), fn("net/http.Post"),
                fn("main.callBackend", 40), fn("main.handler")},
               leaks(40 * kKiB)},
              {Signal::kHeap,
               {fn("runtime.mallocgc"), fn("main.callBackend", 38), fn("main.handler")},
               leaks(40 * kKiB)},
              {Signal::kHeap,
               {fn("bufio.NewWriterSize"), fn("net/http.(*Transport).dialConn"),
                fn("net/http.(*Transport).dialConnFor")},
               leaks(80 * kKiB)},
              {Signal::kHeap, {fn("runtime.malg"), fn("runtime.newproc1")}, leaks(80 * kKiB)}},
             true);
  r.totals[Signal::kFds] = std::vector<double>(r.t_s.size());
  for (size_t i = 0; i < r.t_s.size(); ++i) r.totals[Signal::kFds][i] = 10 + load_s(i) * 20;
  Analysis a = analyze(r);
  EXPECT_EQ(pattern_of(a, Signal::kGoroutines, kReadLoop), "http-body-not-closed");
  EXPECT_EQ(pattern_of(a, Signal::kGoroutines, kWriteLoop), "http-body-not-closed");
  const Finding* loop = find(a, Signal::kGoroutines, kReadLoop);
  EXPECT_NE(loop->pattern.evidence.find("main.callBackend"), std::string::npos)
      << loop->pattern.evidence;
  EXPECT_NE(loop->pattern.fix.find("Body.Close"), std::string::npos);
  // Both heap sites of the caller (the payload's line too) and the /proc descriptors.
  EXPECT_EQ(find(a, Signal::kHeap, "main.callBackend")->pattern.id, "http-body-not-closed");
  EXPECT_EQ(pattern_of(a, Signal::kFds, ""), "http-body-not-closed");
  // The connections' own buffers, and the runtime's records of the goroutines.
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "bufio.NewWriterSize"), "http-body-not-closed");
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "runtime.malg"), "http-body-not-closed");
}

TEST(Patterns, GoroutineWaits) {
  RunSeries r =
      run_of({{Signal::kGoroutines,
               {fn("runtime.gopark"), fn("runtime.chansend"), fn("runtime.chansend1"),
                fn("main.produce.func1")},
               leaks(10)},
              {Signal::kGoroutines,
               {fn("runtime.gopark"), fn("time.Sleep"), fn("main.sleepy.func1")},
               leaks(10)},
              {Signal::kGoroutines,
               {fn("runtime.gopark"), fn("runtime.selectgo"),
                fn("net/http.(*persistConn).roundTrip"), fn("net/http.(*Transport).roundTrip"),
                fn("net/http.(*Client).Get"), fn("main.fanout.func1")},
               leaks(10)},
              {Signal::kHeap, {fn("runtime.mallocgc"), fn("main.fanout", 12)}, leaks(40 * kKiB)},
              {Signal::kGoroutines,
               {fn("runtime.gopark"), fn("sync.runtime_SemacquireMutex"), fn("sync.(*Mutex).Lock"),
                fn("main.locker.func1")},
               leaks(10)},
              {Signal::kHeap,
               {fn("runtime.mallocgc"), fn("context.WithCancel"), fn("main.withCtx", 7)},
               leaks(40 * kKiB)},
              {Signal::kHeap,
               {fn("runtime.mallocgc"), fn("time.NewTimer"), fn("time.After"), fn("main.poll", 9)},
               leaks(40 * kKiB)}},
             true);
  Analysis a = analyze(r);
  EXPECT_EQ(pattern_of(a, Signal::kGoroutines, "main.produce.func1"), "goroutine-chan-blocked");
  EXPECT_NE(find(a, Signal::kGoroutines, "main.produce.func1")->pattern.evidence.find("chan send"),
            std::string::npos);
  EXPECT_EQ(pattern_of(a, Signal::kGoroutines, "main.sleepy.func1"), "goroutine-sleep");
  EXPECT_EQ(pattern_of(a, Signal::kGoroutines, "main.fanout.func1"), "call-no-timeout");
  // The buffers the stuck calls hold, made in the function around the closure.
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "main.fanout"), "call-no-timeout");
  EXPECT_EQ(pattern_of(a, Signal::kGoroutines, "main.locker.func1"), "goroutine-lock-wait");
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "main.withCtx"), "context-not-cancelled");
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "main.poll"), "go-timer-not-stopped");
}

TEST(Patterns, NativeThreadsByStateAndBySocketsOfTheSameFunction) {
  RunSeries r = run_of({
      {Signal::kThreads,
       {fn("pthread_create"), fn("leak_hanging_thread", 5)},
       leaks(10),
       {label("state", "running"), label("wait", "nanosleep")}},
      {Signal::kThreads,
       {fn("pthread_create"), fn("leak_reader", 5)},
       leaks(10),
       {label("state", "running"), label("wait", "recvfrom")}},
      {Signal::kThreads,
       {fn("pthread_create"), fn("leak_unjoined", 5)},
       leaks(10),
       {label("state", "exited-unjoined")}},
      {Signal::kThreads,
       {fn("pthread_create"), fn("leak_fanout", 9)},
       leaks(10),
       {label("state", "running")}},
      {Signal::kFds,
       {fn("socket"), fn("leak_fanout", 7)},
       leaks(10),
       {label("kind", "socket"), label("family", "ipv4"), label("peer", "127.0.0.1:4000")}},
      {Signal::kHeap, {fn("malloc"), fn("operator new[]"), fn("leak_fanout", 8)}, leaks(40 * kKiB)},
  });
  Analysis a = analyze(r);
  EXPECT_EQ(pattern_of(a, Signal::kThreads, "leak_hanging_thread"), "thread-parked");
  EXPECT_NE(find(a, Signal::kThreads, "leak_hanging_thread")->pattern.evidence.find("nanosleep"),
            std::string::npos);
  EXPECT_EQ(pattern_of(a, Signal::kThreads, "leak_reader"), "call-no-timeout");
  EXPECT_EQ(pattern_of(a, Signal::kThreads, "leak_unjoined"), "thread-not-joined");
  EXPECT_EQ(pattern_of(a, Signal::kThreads, "leak_fanout"), "call-no-timeout");
  EXPECT_EQ(pattern_of(a, Signal::kFds, "leak_fanout"), "call-no-timeout");
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "leak_fanout"), "call-no-timeout");
  const Finding* fds = find(a, Signal::kFds, "leak_fanout");
  EXPECT_NE(fds->pattern.evidence.find("127.0.0.1:4000"), std::string::npos)
      << fds->pattern.evidence;
}

TEST(Patterns, DescriptorsByKindPathAndPeer) {
  RunSeries r = run_of({
      {Signal::kFds,
       {fn("open64"), fn("leak_open_file", 3)},
       leaks(10),
       {label("kind", "file"), label("path", "/dev/urandom")}},
      {Signal::kFds,
       {fn("socket"), fn("leak_call_backend", 3)},
       leaks(10),
       {label("kind", "socket"), label("peer", "127.0.0.1:5000")}},
      {Signal::kFds, {fn("pipe2"), fn("leak_pipe", 3)}, leaks(10), {label("kind", "pipe")}},
      {Signal::kFds, {fn("eventfd"), fn("leak_eventfd", 3)}, leaks(10), {label("kind", "eventfd")}},
      // No labels (an older agent): the call at the leaf says the kind.
      {Signal::kFds, {fn("fopen64"), fn("leak_fopen", 3)}, leaks(10)},
  });
  Analysis a = analyze(r);
  EXPECT_EQ(pattern_of(a, Signal::kFds, "leak_open_file"), "file-not-closed");
  EXPECT_NE(find(a, Signal::kFds, "leak_open_file")->pattern.evidence.find("/dev/urandom"),
            std::string::npos);
  EXPECT_EQ(pattern_of(a, Signal::kFds, "leak_call_backend"), "socket-not-closed");
  EXPECT_NE(find(a, Signal::kFds, "leak_call_backend")->pattern.evidence.find("127.0.0.1:5000"),
            std::string::npos);
  EXPECT_EQ(pattern_of(a, Signal::kFds, "leak_pipe"), "pipe-not-closed");
  EXPECT_EQ(pattern_of(a, Signal::kFds, "leak_eventfd"), "fd-not-closed");
  EXPECT_EQ(pattern_of(a, Signal::kFds, "leak_fopen"), "file-not-closed");
}

TEST(Patterns, GoDescriptorsFromProcFollowTheFilesOnTheHeap) {
  RunSeries r = run_of({{Signal::kHeap,
                         {fn("runtime.mallocgc"), fn("os.newFile"), fn("os.openFileNolog"),
                          fn("os.OpenFile"), fn("os.Open"), fn("main.keepFiles", 4)},
                         leaks(40 * kKiB)}},
                       true);
  r.totals[Signal::kFds] = std::vector<double>(r.t_s.size());
  for (size_t i = 0; i < r.t_s.size(); ++i) r.totals[Signal::kFds][i] = 10 + load_s(i) * 20;
  Analysis a = analyze(r);
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "main.keepFiles"), "file-not-closed");
  EXPECT_EQ(pattern_of(a, Signal::kFds, ""), "file-not-closed");
  EXPECT_NE(find(a, Signal::kFds, "")->pattern.evidence.find("main.keepFiles"), std::string::npos);
}

// Go's heap profiles hide runtime.growslice: the slice's backing array is one large object on
// the append's line, growing, beside the records on their own line.
TEST(Patterns, GoSliceShowsAsOneGrowingObject) {
  RunSeries r = run_of(
      {{Signal::kHeap, {fn("main.keepRecords", 50), fn("main.handler")}, leaks(40 * kKiB), {}, 400},
       {Signal::kHeap, {fn("main.keepRecords", 52), fn("main.handler")}, leaks(8 * kKiB), {}, 1},
       // The map's overflow buckets on the same line: small objects.
       {Signal::kHeap,
        {fn("main.keepRecords", 52), fn("main.handler")},
        [](size_t i) { return load_s(i) * 400; },
        {},
        40},
       // Per-request buffers of 64 KiB: many objects, no array.
       {Signal::kHeap,
        {fn("main.keepBuffers", 9), fn("main.handler")},
        leaks(640 * kKiB),
        {},
        200}},
      true);
  Analysis a = analyze(r);
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "main.keepRecords"), "container-growth");
  const Finding* f = find(a, Signal::kHeap, "main.keepRecords");
  EXPECT_NE(f->pattern.evidence.find("main.keepRecords line 52 holds 1 object of 160 KiB"),
            std::string::npos)
      << f->pattern.evidence;
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "main.keepBuffers"), "none");
}

TEST(Patterns, ContainersSharedPtrAndNone) {
  RunSeries r = run_of({
      // The records, and the vector's own buffer on the push_back's line (a sibling site).
      {Signal::kHeap,
       {fn("malloc"), fn("operator new"), fn("std::__cxx11::basic_string<char>::_M_create"),
        fn("leak_append_slice", 84)},
       leaks(200 * kKiB)},
      {Signal::kHeap,
       {fn("malloc"), fn("operator new"),
        fn("void std::vector<std::string, std::allocator<std::string> "
           ">::_M_realloc_insert<std::string>("
           "__gnu_cxx::__normal_iterator<std::string*, std::vector<std::string> >, "
           "std::string&&) [clone .isra.0]",
           0, "/usr/include/c++/12/bits/vector.tcc"),
        fn("leak_append_slice", 86)},
       leaks(8 * kKiB)},
      {Signal::kHeap,
       {fn("malloc"), fn("operator new"), fn("runtime.mallocgc"), fn("runtime.growslice"),
        fn("main.leakAppendSlice", 52)},
       leaks(40 * kKiB)},
      {Signal::kHeap,
       {fn("malloc"), fn("operator new"),
        fn("std::_Sp_counted_ptr_inplace<Node, std::allocator<Node>>::_Sp_counted_ptr_inplace"),
        fn("std::make_shared<Node>"), fn("leak_cycle", 20)},
       leaks(100 * kKiB)},
      {Signal::kHeap, {fn("malloc"), fn("leak_plain", 20)}, leaks(100 * kKiB)},
  });
  // Rust: the records, built with extend_from_slice (a Vec<u8> growing: a buffer, not a
  // container), and the Vec of records growing on the push's line.
  auto rust = [](const char* fn_name, int64_t line, std::vector<std::string> inner) {
    std::vector<Frame> st = {fn("malloc"), fn("alloc::alloc::alloc")};
    for (auto& n : inner) st.push_back(fn(n, 0, "/rustc/abc/library/alloc/src/raw_vec.rs"));
    st.push_back(fn(fn_name, line, "src/heap.rs"));
    return st;
  };
  std::vector<Site> more = {
      {Signal::kHeap,
       rust("leaky::keep_records", 10,
            {"alloc::raw_vec::RawVecInner<A>::finish_grow", "<alloc::vec::Vec<u8>>::reserve",
             "<alloc::vec::Vec<u8>>::extend_from_slice"}),
       leaks(200 * kKiB)},
      {Signal::kHeap,
       rust("leaky::keep_records", 12, {"<alloc::raw_vec::RawVec<alloc::vec::Vec<u8>>>::grow_one"}),
       leaks(8 * kKiB)},
      {Signal::kHeap,
       rust("leaky::build_only", 10,
            {"alloc::raw_vec::RawVecInner<A>::finish_grow", "<alloc::vec::Vec<u8>>::reserve"}),
       leaks(200 * kKiB)}};
  RunSeries r2 = run_of(more);
  Analysis b = analyze(r2);
  EXPECT_EQ(pattern_of(b, Signal::kHeap, "leaky::keep_records"), "container-growth");
  EXPECT_EQ(pattern_of(b, Signal::kHeap, "leaky::build_only"), "none");

  Analysis a = analyze(r);
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "leak_append_slice"), "container-growth");
  const Finding* f = find(a, Signal::kHeap, "leak_append_slice");
  EXPECT_EQ(f->site.line, 84);  // the records' site, explained by its sibling's frames
  EXPECT_NE(f->pattern.evidence.find("grows a container: std::vector::_M_realloc_insert (on"),
            std::string::npos)
      << f->pattern.evidence;
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "main.leakAppendSlice"), "container-growth");
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "leak_cycle"), "shared-ptr-cycle");
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "leak_plain"), "none");
  EXPECT_FALSE(find(a, Signal::kHeap, "leak_plain")->pattern.evidence.empty());
}

TEST(Patterns, MetricFamilies) {
  RunSeries r = make_run();
  for (size_t i = 0; i < r.t_s.size(); ++i)
    r.metric_families["by_path_total"].push_back(3 + 50 * load_s(i));
  r.metric_labels["by_path_total"] = {{"code", 2, {"200", "500"}},
                                      {"path", 1003, {"/a?id=1-1", "/a?id=1-2", "/b?id=2-1"}}};
  Analysis a = analyze(r);
  ASSERT_EQ(a.findings.size(), 1u);
  EXPECT_EQ(a.findings[0].pattern.id, "metric-label-unbounded");
  EXPECT_NE(a.findings[0].pattern.evidence.find(
                "its label path took 1003 values at the last scrape, raw paths with their query "
                "strings (/a?id=1-1, /a?id=1-2, /b?id=2-1)"),
            std::string::npos)
      << a.findings[0].pattern.evidence;
  EXPECT_NE(a.findings[0].pattern.fix.find("route"), std::string::npos);
}

TEST(Patterns, NotALeakGetsOnlyNotALeakPatterns) {
  RunSeries r = run_of(
      {// A cache: fills in 3 s of load, then flat, kept in cooldown.
       {Signal::kHeap,
        {fn("malloc"), fn("cache_put", 3)},
        [](size_t i) { return std::min(load_s(i), 3.0) * 400 * kKiB; }},
       // A fixed pool of HTTP connections: filled at once, flat.
       {Signal::kGoroutines,
        {fn("runtime.gopark"), fn(kReadLoop)},
        [](size_t i) { return load_s(i) > 0 ? 8.0 : 0.0; }},
       // A wave: rises under load, collected in cooldown.
       {Signal::kHeap,
        {fn("runtime.mallocgc"), fn("main.handle", 3)},
        [](size_t i) { return i >= 5 && i < 25 ? load_s(i) * 100 * kKiB : 0.0; }}},
      true);
  Analysis a = analyze(r);
  const Finding* cache = find(a, Signal::kHeap, "cache_put");
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->verdict, Verdict::kNoLeak);
  EXPECT_EQ(cache->pattern.id, "cache-filled");
  const Finding* wave = find(a, Signal::kHeap, "main.handle");
  ASSERT_NE(wave, nullptr);
  EXPECT_EQ(wave->verdict, Verdict::kNoLeak);
  EXPECT_EQ(wave->pattern.id, "gc-wave");
  for (const Finding& f : a.findings) {
    EXPECT_NE(f.verdict, Verdict::kLeak);
    bool leak_pattern = false;
    for (const PatternEntry& e : pattern_catalogue())
      if (f.pattern.id == e.id) leak_pattern = e.leak;
    EXPECT_FALSE(leak_pattern) << f.site.function << " got " << f.pattern.id;
  }
}

TEST(Patterns, RetentionGetsTheAllocatorAdvice) {
  RunSeries r = make_run();
  r.totals[Signal::kRss].resize(r.t_s.size());
  r.totals[Signal::kHeap].resize(r.t_s.size());
  for (size_t i = 0; i < r.t_s.size(); ++i) {
    r.totals[Signal::kRss][i] = 100e6 + load_s(i) * 4e6;
    r.totals[Signal::kHeap][i] = 50e6 + (i < 25 ? load_s(i) * 4e6 : 0);
  }
  Analysis a = analyze(r);
  auto it = std::find_if(a.findings.begin(), a.findings.end(),
                         [](const Finding& f) { return f.verdict == Verdict::kRetention; });
  ASSERT_NE(it, a.findings.end());
  EXPECT_EQ(it->pattern.id, "allocator-retention");
  EXPECT_NE(it->pattern.fix.find("MALLOC_TRIM_THRESHOLD_"), std::string::npos);
}

// A map keyed by strings: one line makes both the node (under _M_emplace_hint_unique) and, in a
// separate stack, the key's own buffer. When the key's stack is the larger of the two, the site's
// representative stack shows no container frame; the catalogue still finds it on the node's.
TEST(Patterns, ContainerFrameOnASitesSmallerStack) {
  RunSeries r = run_of({
      {Signal::kHeap,
       {fn("malloc"), fn("operator new"), fn("std::__cxx11::basic_string<char>::_M_create"),
        fn("leak_by_path", 76), fn("handler", 91)},
       leaks(60 * kKiB)},
      {Signal::kHeap,
       {fn("malloc"), fn("operator new"),
        fn("std::_Rb_tree<std::string, std::pair<std::string const, long>>::"
           "_M_emplace_hint_unique"),
        fn("leak_by_path", 76), fn("handler", 91)},
       leaks(20 * kKiB)},
  });
  ASSERT_EQ(r.sites.size(), 1u);
  EXPECT_EQ(r.sites[0].more_stacks.size(), 1u);
  Analysis a = analyze(r);
  EXPECT_EQ(pattern_of(a, Signal::kHeap, "leak_by_path"), "container-growth");
}

}  // namespace
}  // namespace leakscope::analysis
