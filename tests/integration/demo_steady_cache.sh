#!/usr/bin/env bash
# The control: /steady-cache, an LRU of 1024 values of 2 KiB, fills during its first requests
# (RSS up by >= 1 MiB: ~2 MiB of values) and then stays flat. After one more round that lets the
# allocator settle (C++: each worker thread's malloc arena gathers its own free chunks, +2 MiB
# once; Go: the GC's headroom), 3 rounds of 10000 requests, three lookups in four a miss that
# evicts and allocates 2 KiB, grow RSS by <= 4 MiB each and <= 6 MiB in all, where a leak of
# the same traffic would add 60 MiB. C++ and Go.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

check_cache() {
  local start filled prev now round
  start=$(rss_kib)
  load /steady-cache 4000
  filled=$(settled rss_kib)
  echo "$1 fill: $start -> $filled KiB"
  ((filled - start >= 1024)) || fail "$1: the cache did not fill ($start -> $filled KiB)"
  load /steady-cache 10000
  prev=$(settled rss_kib)
  echo "$1 settling round: $filled -> $prev KiB"
  local first=$prev
  for round in 1 2 3; do
    load /steady-cache 10000
    now=$(settled rss_kib)
    echo "$1 round $round: $prev -> $now KiB"
    ((now - prev <= 4096)) || fail "$1: the steady cache grew by $((now - prev)) KiB in round $round"
    prev=$now
  done
  ((prev - first <= 6144)) || fail "$1: the steady cache grew by $((prev - first)) KiB in 3 rounds"
}

start_service cpp
check_cache cpp

require_go
start_service go
check_cache go
echo PASS
