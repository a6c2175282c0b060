// Reading LEAKSCOPE_* from the environment (documented in the README's "The agent" table).
// Bad values are reported on stderr and replaced by the default: the host always starts.
#include <signal.h>

#include <cstdlib>
#include <cstring>

#include "agent/agent_internal.h"

namespace leakscope::agent {

namespace {

bool parse_int(const char* s, int64_t* out) {
  if (s == nullptr || *s == '\0') return false;
  char* end = nullptr;
  long long v = strtoll(s, &end, 10);
  if (end == s) return false;
  int64_t mul = 1;
  if (*end == 'k' || *end == 'K')
    mul = 1 << 10, ++end;
  else if (*end == 'm' || *end == 'M')
    mul = 1 << 20, ++end;
  else if (*end == 'g' || *end == 'G')
    mul = int64_t{1} << 30, ++end;
  if (*end == 'i' || *end == 'B') ++end;
  if (*end == 'B') ++end;
  if (*end != '\0' || v < 0) return false;
  *out = v * mul;
  return true;
}

// Signals the kernel sends for a fault in the faulting thread (a handler that returns re-runs
// the faulting instruction: a crash would become an endless loop of toggles), or that abort(),
// seccomp and the debugger use, or that cannot be caught at all. Issue 18, item 11.
bool is_refused_signal(int n) {
  switch (n) {
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGTRAP:
    case SIGABRT:
    case SIGSYS:
    case SIGKILL:
    case SIGSTOP:
      return true;
    default:
      return false;
  }
}

int parse_signal_number(const char* s) {
  if (s == nullptr || *s == '\0') return 0;
  if (strncmp(s, "SIG", 3) == 0) s += 3;
  static const struct {
    const char* name;
    int number;
  } kSignals[] = {{"USR1", SIGUSR1},
                  {"USR2", SIGUSR2},
                  {"HUP", SIGHUP},
                  {"WINCH", SIGWINCH},
                  {"URG", SIGURG},
                  {"PROF", SIGPROF},
                  // Known only to be refused (is_refused_signal):
                  {"SEGV", SIGSEGV},
                  {"BUS", SIGBUS},
                  {"FPE", SIGFPE},
                  {"ILL", SIGILL},
                  {"TRAP", SIGTRAP},
                  {"ABRT", SIGABRT},
                  {"SYS", SIGSYS},
                  {"KILL", SIGKILL},
                  {"STOP", SIGSTOP}};
  for (const auto& sig : kSignals) {
    if (strcmp(s, sig.name) == 0) return sig.number;
  }
  if (strncmp(s, "RTMIN+", 6) == 0) return SIGRTMIN + atoi(s + 6);
  int64_t n = 0;
  if (parse_int(s, &n) && n > 0 && n < 65) return static_cast<int>(n);
  agent_logf("unknown signal %s; ignored", s);
  return 0;
}

int parse_signal(const char* name, const char* s) {
  int n = parse_signal_number(s);
  if (n != 0 && is_refused_signal(n)) {
    agent_logf("%s=%s is a fault or uncatchable signal (%d); ignored", name, s, n);
    return 0;
  }
  return n;
}

// The port of LEAKSCOPE_ADDR ("host:port", "[v6]:port", ":port") must be 0..65535: getaddrinfo
// would take 99999 modulo 65536 and bind 34463. Other syntax errors are the server's to report.
bool port_in_range(const char* addr) {
  const char* colon = strrchr(addr, ':');
  if (colon == nullptr) return true;
  const char* p = colon + 1;
  if (*p == '\0') return true;
  long v = 0;
  for (; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return true;  // a service name or garbage: the server says so
    v = v * 10 + (*p - '0');
    if (v > 65535) return false;
  }
  return true;
}

void copy(char* dst, size_t cap, const char* src) {
  if (src == nullptr) return;
  size_t n = strlen(src);
  if (n >= cap) {
    agent_logf("value too long (%lu bytes); ignored", static_cast<unsigned long>(n));
    return;
  }
  memcpy(dst, src, n + 1);
}

void read_int(const char* name, int64_t* field, int64_t min) {
  const char* s = getenv(name);
  if (s == nullptr) return;
  int64_t v = 0;
  if (!parse_int(s, &v) || v < min) {
    agent_logf("%s=%s is not a valid size; using the default", name, s);
    return;
  }
  *field = v;
}

}  // namespace

bool env_switch(const char* name, bool fallback) {
  const char* s = getenv(name);
  if (s == nullptr) return fallback;
  for (const char* on : {"1", "true", "yes", "on"})
    if (strcmp(s, on) == 0) return true;
  for (const char* off : {"0", "false", "no", "off"})
    if (strcmp(s, off) == 0) return false;
  return fallback;
}

void load_config(Config& c) {
  read_int("LEAKSCOPE_RATE", &c.rate, 1);
  read_int("LEAKSCOPE_MAX_SAMPLES_PER_SEC", &c.max_samples_per_sec, 0);
  read_int("LEAKSCOPE_MAX_MEMORY", &c.max_memory, 1 << 20);
  read_int("LEAKSCOPE_DUMP_INTERVAL", &c.dump_interval_s, 0);
  read_int("LEAKSCOPE_DUMP_KEEP", &c.dump_keep, 0);
  c.start_dormant = env_switch("LEAKSCOPE_DORMANT", false);
  c.inherit = env_switch("LEAKSCOPE_INHERIT", false);
  c.toggle_signal = parse_signal("LEAKSCOPE_TOGGLE_SIGNAL", getenv("LEAKSCOPE_TOGGLE_SIGNAL"));
  c.dump_signal = parse_signal("LEAKSCOPE_DUMP_SIGNAL", getenv("LEAKSCOPE_DUMP_SIGNAL"));
  copy(c.addr, sizeof(c.addr), getenv("LEAKSCOPE_ADDR"));
  if (!port_in_range(c.addr)) {
    agent_logf("LEAKSCOPE_ADDR=%s: the port is above 65535; the debug server is off", c.addr);
    c.addr[0] = '\0';
  }
  copy(c.token, sizeof(c.token), getenv("LEAKSCOPE_TOKEN"));
  copy(c.announce, sizeof(c.announce), getenv("LEAKSCOPE_ANNOUNCE"));
  copy(c.dump_dir, sizeof(c.dump_dir), getenv("LEAKSCOPE_DUMP_DIR"));
  copy(c.target, sizeof(c.target), getenv("LEAKSCOPE_TARGET"));
  copy(c.debug_dir, sizeof(c.debug_dir), getenv("LEAKSCOPE_DEBUG_DIR"));
}

}  // namespace leakscope::agent
