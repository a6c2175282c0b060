// The agent's life cycle: configuration from the environment, one-time init, fork handling,
// signals, dumps to a directory, and the exec policy.
//
// Init runs from the library constructor, or earlier from the first hooked call if the host
// allocates before constructors run. Order: resolve the real functions, read the config, decide
// whether this process is the target (target.cc: a wrapper or shell stays passive and passes the
// agent on, and init ends there), map the tables inside the memory budget, warm up the unwinder,
// let each subsystem register its routes, strip the agent from LD_PRELOAD (so exec'd children run
// without it unless LEAKSCOPE_INHERIT=1), install pthread_atfork handlers and signals, switch
// sampling on (unless dormant), start the agent thread.
//
// fork(): the child keeps sampling into its own copy of the books (they are plain memory), the
// stack table lock is taken around fork so the child never inherits it held, and the child
// serves nothing: the agent thread is not recreated and the listening socket is closed.
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "agent/heap/heap_state.h"
#include "agent/hooks/real_functions.h"
#include "agent/heap/region.h"
#include "core/profile/pprof_codec.h"

namespace leakscope::agent {

std::atomic<bool> g_sampling{false};
std::atomic<bool> g_ready{false};
int64_t g_rate = 524288;

namespace {

Config g_config;
std::atomic<int> g_init_state{0};  // 0 not started, 1 running, 2 done

void strip_self_from_ld_preload() {
  const char* preload = getenv("LD_PRELOAD");
  if (preload == nullptr) return;
  std::string kept;
  std::string all = preload;
  size_t pos = 0;
  while (pos <= all.size()) {
    size_t end = all.find_first_of(": ", pos);
    if (end == std::string::npos) end = all.size();
    std::string entry = all.substr(pos, end - pos);
    pos = end + 1;
    if (entry.empty()) continue;
    if (entry.find("libleakscope") != std::string::npos) continue;
    if (!kept.empty()) kept += ':';
    kept += entry;
  }
  if (kept.empty()) {
    unsetenv("LD_PRELOAD");
  } else {
    setenv("LD_PRELOAD", kept.c_str(), 1);
  }
}

void fork_prepare() {
  stack_table_fork_prepare();
  g_region.fork_prepare();
}

void fork_parent() {
  g_region.fork_parent();
  stack_table_fork_parent();
}

void fork_child() {
  ReentryGuard guard;
  unwind_fork_child();
  stack_table_fork_child();
  g_region.fork_child();  // the books and the live set are lock-free and belong to the child
  server_after_fork_child();
  threads_after_fork_child();
  fds_after_fork_child();
}

void on_toggle_signal(int) {
  bool on = !g_sampling.load(std::memory_order_relaxed);
  g_sampling.store(on, std::memory_order_relaxed);
  int saved = errno;
  static const char kOn[] = "leakscope: sampling switched on (signal)\n";
  static const char kOff[] = "leakscope: sampling switched off (signal)\n";
  ssize_t ignored = on ? write(2, kOn, sizeof(kOn) - 1) : write(2, kOff, sizeof(kOff) - 1);
  (void)ignored;
  errno = saved;
}

void on_dump_signal(int) {
  int saved = errno;
  agent_request_dump();
  errno = saved;
}

// Installs the handler for LEAKSCOPE_<what>_SIGNAL, unless the program (or a library loaded
// before the agent) already handles that signal: its handler is left alone, and the agent says
// once that the signal is not taken. SIG_IGN (e.g. SIGHUP under nohup) is not a handler and is
// replaced. A handler the program installs later replaces the agent's, as it should.
void install_signal(int signo, void (*handler)(int), const char* what) {
  if (signo <= 0) return;
  struct sigaction current {};
  if (sigaction(signo, nullptr, &current) == 0 && current.sa_handler != SIG_DFL &&
      current.sa_handler != SIG_IGN) {
    agent_logf("signal %d already has a handler in this program; LEAKSCOPE_%s_SIGNAL is ignored",
               signo, what);
    return;
  }
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(signo, &sa, nullptr) != 0) agent_logf("cannot install signal %d", signo);
}

void init_tables() {
  // Budget split: half for stacks, a quarter for live samples, the books take the rest.
  int64_t budget = g_config.max_memory;
  stack_table_init(budget / 2);
  int64_t live_capacity = budget / 4 / 48;
  if (live_capacity < 4096) live_capacity = 4096;
  if (!g_live.init(live_capacity)) agent_log("cannot map the live-sample set");
  int64_t sites = stack_table_capacity() + 1;
  for (Books& b : g_books) {
    b.sites = static_cast<SiteCounters*>(agent_map(sizeof(SiteCounters) * sites));
    b.size = b.sites != nullptr ? sites : 0;
  }
}

void init_or_throw() {
  region_reserve_once();                  // already done if a bootstrap block was needed
  if (!resolve_real_functions()) return;  // hooks stay pass-through / bootstrap
  load_config(g_config);
  g_rate = g_config.rate;
  g_max_samples_per_sec = g_config.max_samples_per_sec;
  if (!decide_target(g_config)) {
    // A wrapper or shell (or not LEAKSCOPE_TARGET): every hook passes through, nothing is
    // served, and the agent stays in LD_PRELOAD for the program it starts (target.cc).
    unwind_hooks_init();
    g_init_state.store(2);
    return;
  }
  init_tables();
  stack_capture_init();
  heap_init();
  threads_init();
  fds_init();
  if (!g_config.inherit) strip_self_from_ld_preload();
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  install_signal(g_config.toggle_signal, on_toggle_signal, "TOGGLE");
  install_signal(g_config.dump_signal, on_dump_signal, "DUMP");
  g_ready.store(true);
  if (g_live.ready() && !g_config.start_dormant) g_sampling.store(true);
  server_start();
  g_init_state.store(2);
}

}  // namespace

const Config& config() { return g_config; }

void agent_ensure_init() {
  int expected = 0;
  if (!g_init_state.compare_exchange_strong(expected, 1)) return;
  ReentryGuard guard;
  AllocFailureThrows throws;
  try {
    init_or_throw();
  } catch (...) {  // out of memory before main: the agent stays passive, the host starts
    agent_log("out of memory while starting; the agent stays passive");
  }
}

}  // namespace leakscope::agent

__attribute__((constructor)) static void leakscope_constructor() {
  leakscope::agent::agent_ensure_init();
}
