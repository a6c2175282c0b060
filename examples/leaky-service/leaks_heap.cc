// Heap patterns: memory that stays reachable, so no leak checker at exit would ever report it.
//
//   append-slice     a global vector gets one 2 KiB record per request and is never trimmed.
//                    Fix: a ring of kRingSlots records; the oldest is overwritten.
//   request-context  each request's context goes into a global map keyed by request id and is
//                    never erased. Fix: erased when the request ends (a scope guard), plus a
//                    purge by age for contexts whose request died before its guard ran.
//   steady-cache     the control: an LRU cache of kCacheEntries values of 2 KiB. It fills during
//                    the first thousand or so misses, then evicts one entry per miss: in-use heap
//                    climbs to ~2 MiB and stays flat under any load. Not a leak.
//
// Each allocation that persists happens inside the LEAKY_SITE function itself (the std::string
// or make_unique call is inlined into it), so the function is on every allocation stack, and no
// helper of our own sits between it and operator new: a shared helper, even inlined, would be
// the innermost frame of our code on the leak's stack, its fix's and the cache's alike. Hence
// the few repeated lines that make a record (kLeakBytes of '.', stamped with an id).
#include <chrono>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "examples/leaky-service/leaks.h"

namespace {

using Clock = std::chrono::steady_clock;

std::mutex g_append_mu;
std::vector<std::string> g_appended;  // guarded by g_append_mu; grows by one per leak request

constexpr int64_t kRingSlots = 256;
std::vector<std::string> g_ring;  // guarded by g_append_mu; at most kRingSlots records
int64_t g_ring_next = 0;          // guarded by g_append_mu

struct RequestContext {
  int64_t id = 0;
  Clock::time_point start;
  std::string target;
  char scratch[kLeakBytes];  // per-request working memory (parsed headers, auth claims, ...)
};

std::mutex g_ctx_mu;
int64_t g_next_ctx_id = 0;  // guarded by g_ctx_mu
// Leaky: never erased. Guarded by g_ctx_mu.
std::unordered_map<int64_t, std::unique_ptr<RequestContext>> g_leaked_contexts;
// Fixed: each entry lives for one request (or kContextMaxAge at most). Guarded by g_ctx_mu.
std::unordered_map<int64_t, std::unique_ptr<RequestContext>> g_live_contexts;
constexpr auto kContextMaxAge = std::chrono::seconds(10);
int64_t g_inserts_since_purge = 0;  // guarded by g_ctx_mu

// Removes contexts older than kContextMaxAge: the safety net for requests that ended without
// their scope guard running (a crash in a handler thread, a cancelled coroutine).
void purge_old_contexts(Clock::time_point now) {
  for (auto it = g_live_contexts.begin(); it != g_live_contexts.end();) {
    it = now - it->second->start > kContextMaxAge ? g_live_contexts.erase(it) : std::next(it);
  }
}

// Pretends to use the context: the request's work.
int64_t work_on(const RequestContext& ctx) {
  int64_t sum = 0;
  for (size_t i = 0; i < ctx.target.size(); ++i) sum += static_cast<unsigned char>(ctx.target[i]);
  return sum + ctx.scratch[0];
}

struct CacheEntry {
  int64_t key;
  std::string value;
};
constexpr size_t kCacheEntries = 1024;
std::mutex g_cache_mu;
std::list<CacheEntry> g_lru;  // guarded by g_cache_mu; front = most recent; <= kCacheEntries
std::unordered_map<int64_t, std::list<CacheEntry>::iterator> g_lru_index;  // guarded by g_cache_mu

}  // namespace

extern "C" int64_t leak_append_slice(int64_t request_id) {
  std::lock_guard lock(g_append_mu);
  if (static_cast<int64_t>(g_appended.size()) >= kCapHeapItems) return kCapReached;
  std::string record(kLeakBytes, '.');
  std::memcpy(record.data(), &request_id, sizeof request_id);
  g_appended.push_back(std::move(record));
  int64_t held = static_cast<int64_t>(g_appended.size());
  LEAKY_KEEP_FRAME();
  return held;
}

extern "C" int64_t fixed_append_slice(int64_t request_id) {
  std::lock_guard lock(g_append_mu);
  std::string record(kLeakBytes, '.');
  std::memcpy(record.data(), &request_id, sizeof request_id);
  if (static_cast<int64_t>(g_ring.size()) < kRingSlots) {
    g_ring.push_back(std::move(record));
  } else {
    g_ring[g_ring_next % kRingSlots] = std::move(record);
  }
  ++g_ring_next;
  int64_t held = static_cast<int64_t>(g_ring.size());
  LEAKY_KEEP_FRAME();
  return held;
}

extern "C" int64_t leak_request_context(const char* target) {
  std::lock_guard lock(g_ctx_mu);
  if (static_cast<int64_t>(g_leaked_contexts.size()) >= kCapHeapItems) return kCapReached;
  auto ctx = std::make_unique<RequestContext>();
  ctx->id = ++g_next_ctx_id;
  ctx->start = Clock::now();
  ctx->target = target;
  std::memset(ctx->scratch, 0, sizeof ctx->scratch);
  work_on(*ctx);
  g_leaked_contexts.emplace(ctx->id, std::move(ctx));  // and nobody ever erases it
  int64_t held = static_cast<int64_t>(g_leaked_contexts.size());
  LEAKY_KEEP_FRAME();
  return held;
}

extern "C" int64_t fixed_request_context(const char* target) {
  std::lock_guard lock(g_ctx_mu);
  auto ctx = std::make_unique<RequestContext>();
  int64_t id = ctx->id = ++g_next_ctx_id;
  ctx->start = Clock::now();
  ctx->target = target;
  std::memset(ctx->scratch, 0, sizeof ctx->scratch);
  const RequestContext& live = *g_live_contexts.emplace(id, std::move(ctx)).first->second;
  struct EraseOnExit {  // the request's scope: its context leaves the map with it
    int64_t id;
    ~EraseOnExit() { g_live_contexts.erase(id); }
  } guard{id};
  work_on(live);
  if (++g_inserts_since_purge >= 256) {
    g_inserts_since_purge = 0;
    purge_old_contexts(Clock::now());
  }
  int64_t held = static_cast<int64_t>(g_live_contexts.size());
  LEAKY_KEEP_FRAME();
  return held;
}

extern "C" int64_t steady_cache_lookup(int64_t key) {
  std::lock_guard lock(g_cache_mu);
  if (auto it = g_lru_index.find(key); it != g_lru_index.end()) {
    g_lru.splice(g_lru.begin(), g_lru, it->second);  // hit: move to the front
    return static_cast<int64_t>(g_lru.size());
  }
  if (g_lru.size() >= kCacheEntries) {  // full: evict the least recently used
    g_lru_index.erase(g_lru.back().key);
    g_lru.pop_back();
  }
  std::string value(kLeakBytes, '.');
  std::memcpy(value.data(), &key, sizeof key);
  g_lru.push_front(CacheEntry{key, std::move(value)});
  g_lru_index[key] = g_lru.begin();
  int64_t held = static_cast<int64_t>(g_lru.size());
  LEAKY_KEEP_FRAME();
  return held;
}
