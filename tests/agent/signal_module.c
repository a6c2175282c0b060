// Preloaded before the agent by tests/integration/agent_signals.sh: its constructor installs a
// SIGUSR1 handler, as a host (or a library of the host) may do before the agent starts. The
// handler says it ran on stderr; the agent must leave it in place (LEAKSCOPE_TOGGLE_SIGNAL=USR1
// is then ignored, with one line saying so).
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void host_handler(int signo) {
  static const char kMessage[] = "host handler ran\n";
  (void)signo;
  ssize_t ignored = write(2, kMessage, sizeof(kMessage) - 1);
  (void)ignored;
}

__attribute__((constructor)) static void install_host_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = host_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
}
