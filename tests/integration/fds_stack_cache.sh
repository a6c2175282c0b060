#!/usr/bin/env bash
# The descriptor hooks' per-thread stack cache never books a descriptor to the wrong stack: one
# open() site reached, interleaved, from two callers with identical frames (same return address
# and stack pointer at the hook) and from a recursive chain, gets exact counts per caller, with
# the cache on (the default) and off (LEAKSCOPE_FD_STACK_CACHE=0).
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/trackers/lib.sh"
N=200

for cache in 1 0; do
  status=$TMP/status.$cache
  LEAKSCOPE_FD_STACK_CACHE=$cache start_agent "cache$cache" "$BUILD/fd_cache_sites" "$status" "$N"
  wait_for_line "$status" '^opened'
  page=$(fetch "/debug/pprof/fds?debug=1")
  expect "cache=$cache: via_caller_a" "$(site_count "$page" via_caller_a)" "$N"
  expect "cache=$cache: via_caller_b" "$(site_count "$page" via_caller_b)" "$N"
  expect "cache=$cache: via_depth" "$(site_count "$page" via_depth)" "$N"
  expect "cache=$cache: shared_open_site" "$(site_count "$page" shared_open_site)" $((3 * N))
  kill "$PID"
done
echo PASS
