#!/usr/bin/env bash
# /open-file opens /dev/urandom per request and never closes it: +1 descriptor per request
# (1000 requests: >= 1000 more in /proc/PID/fd); /open-file?fixed=1 (RAII / defer) adds none
# (<= 4: connections closing). C++ and Go.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

start_service cpp
check_fixed_then_leak /open-file fds 1000 4 1000 200

require_go
start_service go
check_fixed_then_leak /open-file fds 1000 4 1000 200
echo PASS
