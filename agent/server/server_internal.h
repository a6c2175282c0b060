// Shared by the debug server's files (server.cc: routes and the agent thread's loop;
// server_listen.cc: the listening socket and the announce file; dump.cc: dumps).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "agent/agent_internal.h"

namespace leakscope::agent {

// Routing (server.cc): answers one complete request (authentication, then the route), the
// status line and headers of an answer, and the plain-text error answer.
LEAKSCOPE_HIDDEN void handle_request(const HttpRequest& req, HttpResponse& res);
LEAKSCOPE_HIDDEN std::string serialize_response(const HttpResponse& r);
LEAKSCOPE_HIDDEN void error_response(HttpResponse& res, int status, const std::string& message);

// The agent thread (server_loop.cc): binds, opens the wake pipe and starts the thread; false
// when there is nothing to serve or dump.
LEAKSCOPE_HIDDEN bool server_loop_start(bool serve);

// True for 127.0.0.0/8 and ::1.
LEAKSCOPE_HIDDEN bool is_loopback(const sockaddr* sa);

// Binds LEAKSCOPE_ADDR (or, when `again` is given, the address the server had before: the same
// port, even if LEAKSCOPE_ADDR said port 0), writes LEAKSCOPE_ANNOUNCE, and returns the listening
// socket registered as the agent's own (own_fds.h) at a high number. -1 after saying why on
// stderr when it must not or cannot; `quiet` keeps a failed re-open from logging again.
LEAKSCOPE_HIDDEN int open_listener(sockaddr_storage* bound, const sockaddr_storage* again,
                                   bool quiet);

// The agent thread's figures for /healthz and /metrics (server.cc).
struct ServerFigures {
  int64_t accept_emfile_total = 0;  // accept() failures for want of a descriptor (EMFILE, ENFILE)
  bool fds_exhausted = false;       // one of those in the last kExhaustedWindowMs
  int64_t last_emfile_age_ms = -1;  // since the last one; -1: never
  int64_t evicted_total = 0;        // pending connections closed to make room (slow clients)
  int64_t refused_total = 0;        // connections answered 503: every slot busy answering
  int64_t request_timeouts_total = 0;  // connections that sent no complete request in time
  int64_t own_fds_lost_total = 0;      // the agent's descriptors closed by the program
  int64_t dump_failures_total = 0;     // dump files that could not be written
};
LEAKSCOPE_HIDDEN ServerFigures server_figures();

// dump.cc: dump files that could not be written since the process started.
LEAKSCOPE_HIDDEN int64_t dump_failures_total();

}  // namespace leakscope::agent
