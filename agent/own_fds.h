// The agent's own long-lived descriptors (the listening socket, the wake pipe, the reserve
// descriptor, client connections), kept apart from the host's.
//
// A host may close descriptors it never opened: the daemon idiom `for fd in 3..1023: close(fd)`,
// closefrom(3), close_range(3, ~0U, 0), or dup2() over a number. The number is then free, and the
// host's next open() or pipe() gets it: an agent that kept using it would read the host's pipe,
// write into the host's file, or close the host's descriptor in a fork child (issue 18). So:
//   - every such descriptor is moved to a high number (F_DUPFD_CLOEXEC at own_fd_base(): 1024
//     when the soft RLIMIT_NOFILE leaves room above it, else just under the limit) where the
//     lowest-free-number rule rarely reaches and the usual idiom (3..1023) does not go;
//   - it is registered here; the close, close_range, closefrom, dup2 and dup3 hooks call
//     own_fds_closing() for the host's calls, which marks a registered number *lost* before the
//     real call frees it, and wakes the agent thread;
//   - the agent thread asks own_fd_ok() before each use, forgets a lost number without closing it
//     (it is not the agent's any more), and re-creates what it needs.
// A raw close system call (no hook) is caught by identity: own_fd_ok() also compares the
// number's (st_dev, st_ino) with the ones it had when registered.
//
// Slot words: 0 free, else fd + 1, with kLost set once the host closed it. Any thread may mark a
// slot lost (a CAS, async-signal-safe); only the agent's threads (the agent thread, the dump
// writer of dump.cc; or the fork child's handler, or server_start before the thread exists)
// register and free slots (a slot is claimed by a CAS, so two of them never take the same one).
#pragma once

#include <cstdint>

#include "agent/agent_api.h"

namespace leakscope::agent {

// The lowest number own_fd() moves descriptors to (0: no moving, the limit is too low).
LEAKSCOPE_HIDDEN int own_fd_base();

// Short-lived descriptors (a /proc file read for a profile, a dump being written) take the same
// path: own_fd(open(...)), own_fd_live() before each read or write, own_fd_close().
//
// Moves fd to a high number, registers it and returns the number to use from now on. When the
// move fails (no room), fd itself is registered. -1 (fd closed) when the registry is full.
LEAKSCOPE_HIDDEN int own_fd(int fd);

// True while fd is registered, was not closed under the agent, and is still the same file.
LEAKSCOPE_HIDDEN bool own_fd_ok(int fd);

// True while fd is registered and not marked lost (no system call: for each read of a short-lived
// descriptor, where own_fd_ok's fstat would double the cost).
LEAKSCOPE_HIDDEN bool own_fd_live(int fd);

// Unregisters fd and closes it, unless it was lost (then the number is the host's: untouched).
LEAKSCOPE_HIDDEN void own_fd_close(int fd);

// Fork child: forgets every slot, closing those still the agent's.
LEAKSCOPE_HIDDEN void own_fds_close_all();

// From the descriptor hooks, for calls the host makes (not the agent's own): [first, last] are
// about to be closed (or replaced by dup2/dup3). Marks registered ones lost and wakes the agent
// thread. Cheap when nothing of the agent's is in the range (one load). Async-signal-safe.
LEAKSCOPE_HIDDEN void own_fds_closing(unsigned first, unsigned last);

// Registered descriptors found closed under the agent since the process started (/metrics).
LEAKSCOPE_HIDDEN int64_t own_fds_lost_total();

// Wakes the agent thread (server.cc); async-signal-safe, a no-op when it is not running.
LEAKSCOPE_HIDDEN void server_wake();

}  // namespace leakscope::agent
