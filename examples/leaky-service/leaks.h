// The leak sites of the demo service, and their fixed twins.
//
// Every pattern creates its memory, thread or descriptor inside one function with C linkage and a
// plain name, so that a symbolizer prints exactly the name listed in examples/ground_truth.json:
// no namespace, no parameter list, nothing that differs between demanglers. The attributes keep
// each function a real frame on every stack that passes through it:
//   noinline        its body is not merged into the HTTP handler that calls it;
//   noipa (GCC)     implies noclone and no_icf: no specialised clone ("f.constprop.0") and no
//                   identical-code folding of a leak with its fixed twin;
//   LEAKY_KEEP_FRAME()  an empty asm with a memory clobber after the last call, so that call is
//                   not a tail call (a tail call would drop the frame from the unwound stack).
// CMake also builds these files with -fno-optimize-sibling-calls and frame pointers.
//
// Return values: the number of items the pattern holds after this request (>= 0), or one of the
// negative codes below. Each leak stops at a safety cap (kCap...) so that a runaway load cannot
// take the machine down; the caps are far above what the tests and the demo's loads reach, and
// are listed in ground_truth.json ("cap").
#pragma once

#include <cstdint>

#if defined(__clang__)
#define LEAKY_SITE extern "C" __attribute__((noinline, used))
#else
#define LEAKY_SITE extern "C" __attribute__((noinline, noipa, used))
#endif
#define LEAKY_KEEP_FRAME() asm volatile("" ::: "memory")

inline constexpr int64_t kCapReached = -1;  // the safety cap stopped the leak: HTTP 503
inline constexpr int64_t kFailed = -2;      // an error, e.g. the backend is unreachable: 502

// Safety caps, in leaked items per pattern for the life of the process.
inline constexpr int64_t kCapHeapItems = 65536;  // x ~2 KiB: at most ~128 MiB per pattern
inline constexpr int64_t kCapThreads = 6000;     // hung threads (64 KiB stacks, ~10 KiB RSS)
inline constexpr int64_t kCapFds = 6000;         // descriptors (RLIMIT_NOFILE is often 20000)

// Heap patterns (leaks_heap.cc). Each leaked item is kLeakBytes of heap.
inline constexpr int64_t kLeakBytes = 2048;
LEAKY_SITE int64_t leak_append_slice(int64_t request_id);
LEAKY_SITE int64_t fixed_append_slice(int64_t request_id);
LEAKY_SITE int64_t leak_request_context(const char* target);
LEAKY_SITE int64_t fixed_request_context(const char* target);
LEAKY_SITE int64_t steady_cache_lookup(int64_t key);

// Thread patterns (leaks_threads.cc).
LEAKY_SITE int64_t leak_hanging_thread(void);
LEAKY_SITE int64_t fixed_hanging_thread(void);
LEAKY_SITE int64_t leak_fanout(void);
LEAKY_SITE int64_t fixed_fanout(void);

// Descriptor patterns (leaks_fds.cc).
LEAKY_SITE int64_t leak_open_file(void);
LEAKY_SITE int64_t fixed_open_file(void);
LEAKY_SITE int64_t leak_call_backend(void);
LEAKY_SITE int64_t fixed_call_backend(void);

// Metrics cardinality (metrics.cc): one series per raw path and query vs one per route.
LEAKY_SITE int64_t leak_metrics_by_path(const char* raw_target);
LEAKY_SITE int64_t fixed_metrics_by_path(const char* route);

// Startup: the fixed variants' pools (threads and keep-alive connections) are made before the
// service announces its port, so they belong to the idle baseline and never look like growth.
void start_fixed_thread_pool();  // leaks_threads.cc
void start_fixed_client_pool();  // leaks_fds.cc; needs the backend to be up
