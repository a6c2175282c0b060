#!/usr/bin/env bash
# /fanout calls /ok, /slow and /hang in parallel with no deadline and answers after two: the
# /hang call's thread (Go: goroutine) and socket stay, +1 each per request (500 requests:
# >= 500 more threads, descriptors, goroutines); /fanout?fixed=1 (a deadline, the rest
# cancelled, every call joined) adds none once settled (C++: <= 4; Go: its keep-alive pool may
# refill to its bound of 8 idle connections, 2 goroutines each, so <= 16 and <= 8). C++ and Go.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

start_service cpp
check_fixed_then_leak /fanout threads 500 4 500 100
check_fixed_then_leak /fanout fds 500 4 500 100

require_go
start_service go
check_fixed_then_leak /fanout goroutines 500 16 500 100
check_fixed_then_leak /fanout fds 500 8 500 100
echo PASS
