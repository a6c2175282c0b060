// /metrics: the agent's own figures in Prometheus text format 0.0.4, for a Prometheus server (or
// any scraper of that format) to chart beside the service's own metrics.
//
// Where the profiles answer "which site", these answer "how much, over time", at a price a
// scraper can pay every second: every figure is read from what the agent already keeps, with
// atomic loads, and nothing here takes a lock a hook takes, unwinds a stack, reads
// /proc/self/maps or builds a profile. The heap figures are sums over the per-stack books
// (book_totals: one pass over at most the stack table's size, a few loads per site); the thread
// and descriptor figures come from the trackers' tables (threads_figures, fds_figures), each
// confirmed by one cheap syscall per entry (tgkill 0, fcntl F_GETFD).
//
// What the figures mean:
//   - heap and mmap in-use bytes and objects are *estimates*, unbiased like the profiles (Go's
//     formula), so their error is about 1/sqrt(samples): the sum of the profile's inuse_space;
//   - the *_total counters are cumulative since the process started and never decrease (each
//     site's counters only grow and sites are never removed), so rate() and increase() work;
//   - tracked threads and descriptors are those the agent saw created (unknown-origin ones, the
//     main thread included, are not counted: /proc has those);
//   - each bounded table says how full it is and how many events it could not record;
//   - the agent's memory is the address space of its tables (mapped lazily by the kernel; a
//     typical process touches a few MiB of it) and the configured cap.
// The route is served under the same rules as every other (loopback, or a bearer token).
#include "agent/heap/heap_state.h"
#include "agent/heap/region.h"
#include "agent/server/metrics_text.h"
#include "agent/server/server_internal.h"

namespace leakscope::agent {

namespace {

// A family of one unlabelled sample.
struct Single {
  const char* name;
  const char* type;
  const char* help;
  int64_t value;
};

void single_families(MetricsText& m, const BookTotals& heap, const BookTotals& mmap) {
  const Single singles[] = {
      {"leakscope_heap_inuse_bytes", "gauge",
       "Estimated bytes of live heap objects (unbiased from the samples).", heap.inuse_bytes},
      {"leakscope_heap_inuse_objects", "gauge", "Estimated live heap objects.", heap.inuse_objects},
      {"leakscope_heap_alloc_bytes_total", "counter",
       "Estimated bytes allocated on the heap since the process started.", heap.alloc_bytes},
      {"leakscope_heap_alloc_objects_total", "counter",
       "Estimated heap objects allocated since the process started.", heap.alloc_objects},
      {"leakscope_mmap_inuse_bytes", "gauge",
       "Estimated bytes of live anonymous mappings (mmap, mremap).", mmap.inuse_bytes},
      {"leakscope_mmap_alloc_bytes_total", "counter",
       "Estimated bytes of anonymous mappings made since the process started.", mmap.alloc_bytes},
      {"leakscope_sample_rate_bytes", "gauge",
       "Mean bytes between heap samples (LEAKSCOPE_RATE); 1 records every allocation.", g_rate},
      {"leakscope_sampling_dormant", "gauge", "1 while sampling is off (dormant mode), else 0.",
       g_sampling.load(std::memory_order_relaxed) ? 0 : 1},
      {"leakscope_agent_memory_limit_bytes", "gauge",
       "Cap on the agent's tables (LEAKSCOPE_MAX_MEMORY).", config().max_memory},
  };
  for (const Single& s : singles) {
    m.family(s.name, s.type, s.help);
    m.sample(s.value);
  }
}

void tracker_family(MetricsText& m, const TrackerFigures& f, const char* name, const char* key,
                    const char* help) {
  if (!f.on) return;
  m.family(name, "gauge", help);
  for (const auto& [label, value] : f.live) m.sample(key, label, value);
}

struct TableRow {
  const char* table;
  int64_t entries, capacity, overflow;
};

void table_families(MetricsText& m, int64_t untracked_samples, const TrackerFigures& threads,
                    const TrackerFigures& fds) {
  std::vector<TableRow> rows{
      {"stacks", stack_table_size(), stack_table_capacity(), stack_table_overflow()},
      {"live_samples", g_live.live() + g_region.live_blocks(), g_live.capacity(),
       untracked_samples}};
  if (threads.on) rows.push_back({"threads", threads.entries, threads.capacity, threads.overflow});
  if (fds.on) rows.push_back({"fds", fds.entries, fds.capacity, fds.overflow});
  m.family("leakscope_table_entries", "gauge", "Entries in use in each of the agent's tables.");
  for (const TableRow& r : rows) m.sample("table", r.table, r.entries);
  m.family("leakscope_table_capacity", "gauge", "Entries each of the agent's tables can hold.");
  for (const TableRow& r : rows) m.sample("table", r.table, r.capacity);
  m.family("leakscope_table_overflow_total", "counter",
           "Events a full table could not record (booked under [leakscope: overflow], or "
           "untracked).");
  for (const TableRow& r : rows) m.sample("table", r.table, r.overflow);
}

void memory_families(MetricsText& m, const TrackerFigures& threads, const TrackerFigures& fds) {
  m.family("leakscope_agent_memory_bytes", "gauge",
           "Address space of the agent's own tables (mapped lazily: resident memory is less).");
  m.sample("part", "tables", agent_mapped_bytes());
  if (threads.on) m.sample("part", "thread_table", threads.table_bytes);
  if (fds.on) m.sample("part", "fd_table", fds.table_bytes);
}

// The sample region (region.h): sampled heap blocks live there, not in the program's allocator.
void region_families(MetricsText& m) {
  m.family("leakscope_sample_region_bytes", "gauge",
           "The sample region holding sampled heap blocks: address space reserved, and the part "
           "made accessible for blocks (their memory, moved out of the program's allocator).");
  m.sample("state", "reserved", static_cast<int64_t>(g_region.size()));
  m.sample("state", "committed", g_region.committed_bytes());
  m.family("leakscope_sample_region_blocks", "gauge", "Sampled heap blocks live in the region.");
  m.sample(g_region.live_blocks());
}

// The debug server's own health: descriptor exhaustion, clients it turned away, descriptors the
// program closed under it, dumps it could not write (server_internal.h).
void server_families(MetricsText& m) {
  ServerFigures f = server_figures();
  const Single singles[] = {
      {"leakscope_fds_exhausted", "gauge",
       "1 while the process is out of file descriptors (accept failed with EMFILE or ENFILE in "
       "the last 10 s), else 0.",
       f.fds_exhausted ? 1 : 0},
      {"leakscope_accept_emfile_total", "counter",
       "Clients the debug server could not accept at once for want of a descriptor.",
       f.accept_emfile_total},
      {"leakscope_server_evicted_total", "counter",
       "Clients closed before sending a complete request, to make room for a newer one.",
       f.evicted_total},
      {"leakscope_server_request_timeouts_total", "counter",
       "Clients closed for not sending a complete request within 2 s.", f.request_timeouts_total},
      {"leakscope_server_refused_total", "counter",
       "Clients answered 503 because every slot was busy writing an answer.", f.refused_total},
      {"leakscope_agent_fds_lost_total", "counter",
       "Descriptors of the agent that the program closed under it (a close-all loop).",
       f.own_fds_lost_total},
      {"leakscope_dump_failures_total", "counter",
       "Dump files that could not be written into LEAKSCOPE_DUMP_DIR.", f.dump_failures_total},
  };
  for (const Single& s : singles) {
    m.family(s.name, s.type, s.help);
    m.sample(s.value);
  }
}

void metrics_route(const HttpRequest&, HttpResponse& res) {
  ReentryGuard guard;
  BookTotals heap = book_totals(BookKind::kHeap);
  BookTotals mmap = book_totals(BookKind::kMmap);
  TrackerFigures threads = threads_figures();
  TrackerFigures fds = fds_figures();
  MetricsText m;
  single_families(m, heap, mmap);
  tracker_family(m, threads, "leakscope_tracked_threads", "state",
                 "Live threads the agent saw created, by state (exited_unjoined: finished, "
                 "never joined, still holding its stack).");
  tracker_family(m, fds, "leakscope_tracked_fds", "kind",
                 "Open descriptors the agent saw created, by kind.");
  table_families(m, heap.untracked + mmap.untracked, threads, fds);
  memory_families(m, threads, fds);
  region_families(m);
  server_families(m);
  res.content_type = kMetricsContentType;
  res.body = m.text();
}

}  // namespace

void metrics_init() {
  register_route("/metrics",
                 "The agent's figures in Prometheus text format: heap estimate, counters, "
                 "threads, descriptors, table use",
                 metrics_route);
}

}  // namespace leakscope::agent
