// Starts the demo backend (leaky-backend) as a child process on a free loopback port.
//
// The backend runs in its own process so that its sockets and threads (one per hanging call)
// are never counted against the service being watched. The child's environment drops
// LD_PRELOAD and LEAKSCOPE_* so that an agent preloaded into the service is not loaded into the
// backend too, and the child is told our pid: it asks the kernel to kill it when we die
// (PR_SET_PDEATHSIG) and exits by itself if its parent changes, so no backend outlives a test.
#pragma once

#include <sys/types.h>

#include <string>

struct BackendProcess {
  pid_t pid = -1;
  int port = 0;
};

// Spawns `binary --port 0 --parent <our pid>` and waits (up to 10 s) for its announcement line
// "backend listening on 127.0.0.1:PORT". On failure returns pid -1 and sets *error.
BackendProcess spawn_backend(const std::string& binary, std::string* error);
