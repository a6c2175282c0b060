#!/usr/bin/env bash
# /call-backend leaves each backend response unread and unclosed: +1 descriptor per request
# (1000 requests: >= 1000 more in /proc/PID/fd), and in Go also net/http's two goroutines per
# connection (>= 2000 more); /call-backend?fixed=1 (a pooled keep-alive client, connected at
# startup, every body drained and closed) adds none (C++: <= 4; Go: <= 8 descriptors and 16
# goroutines, the pool's bound of 8 idle connections). C++ and Go.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

start_service cpp
check_fixed_then_leak /call-backend fds 1000 4 1000 200

require_go
start_service go
check_fixed_then_leak /call-backend fds 1000 8 1000 200
check_fixed_then_leak /call-backend goroutines 1000 16 2000 200
echo PASS
