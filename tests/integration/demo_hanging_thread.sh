#!/usr/bin/env bash
# /hanging-thread starts a thread (Go: a goroutine) per request that never ends: +1 per request,
# exactly (1000 requests: >= 1000 more, counted in /proc/PID/task; Go: go_goroutines from
# /metrics); /hanging-thread?fixed=1 (a pool made at startup) adds none (<= 2 in flight).
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

start_service cpp
check_fixed_then_leak /hanging-thread threads 1000 2 1000 200

require_go
start_service go
check_fixed_then_leak /hanging-thread goroutines 1000 2 1000 200
echo PASS
