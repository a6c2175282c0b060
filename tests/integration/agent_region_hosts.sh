#!/usr/bin/env bash
# Sampled blocks live in the agent's sample region (agent/region.h); every entry point that can
# receive one must handle it. tests/agent/region_host.cc hands them to malloc_usable_size,
# realloc, reallocarray, calloc, the aligned allocators, sized/aligned/nothrow deletes, another
# thread and a forked child, on top of glibc, jemalloc and tcmalloc (the agent first in
# LD_PRELOAD, forwarding to the allocator behind it), at rate 1 (every block in the region) and
# at the default rate. At rate 1 its odd-sized blocks must report their exact sizes (the region's
# answer; the allocators round up), which shows that the blocks did come from the region.
# Then the fallback: under an RLIMIT_AS too small for a region, sampled blocks come from the host
# and are booked in the live set, and the program still runs.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_region_host
LIBDIR=/usr/lib/x86_64-linux-gnu
[[ -d $LIBDIR ]] || LIBDIR=/lib/x86_64-linux-gnu

host_run() {  # host_run NAME RATE [ENV...]: runs the program, prints its line
  local name=$1 rate=$2
  shift 2
  local out
  out=$(timeout 120 env LEAKSCOPE_RATE="$rate" "$@" "$PROG" 2>&1) || fail "$name at rate $rate: $out"
  [[ $out == "region host ok: exact="* ]] || fail "$name at rate $rate: $out"
  echo "ok: $name at rate $rate: $out"
  if [[ $rate == 1 ]]; then
    [[ $out =~ exact=([0-9]+)/([0-9]+) && ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]] ||
      fail "$name at rate 1: sampled blocks did not come from the region ($out)"
  fi
}

for rate in 1 524288; do
  host_run glibc "$rate" LD_PRELOAD="$AGENT"
  if [[ -e $LIBDIR/libjemalloc.so.2 ]]; then
    host_run jemalloc "$rate" LD_PRELOAD="$AGENT $LIBDIR/libjemalloc.so.2" REGION_HOST_NO_PVALLOC=1
  else
    echo "skip: no libjemalloc.so.2"
  fi
  if [[ -e $LIBDIR/libtcmalloc.so.4 ]]; then
    host_run tcmalloc "$rate" LD_PRELOAD="$AGENT $LIBDIR/libtcmalloc.so.4"
  else
    echo "skip: no libtcmalloc.so.4"
  fi
done

echo "== no region (RLIMIT_AS of 400 MB): the host's blocks and the live set"
out=$( (ulimit -v 400000 && LD_PRELOAD="$AGENT" LEAKSCOPE_RATE=1 REGION_HOST_NO_HUGE=1 \
  timeout 120 "$PROG") 2>&1) || fail "no region: $out"
[[ $out =~ exact=([0-9]+)/([0-9]+) && ${BASH_REMATCH[1]} != "${BASH_REMATCH[2]}" ]] ||
  fail "no region: blocks still came from a region ($out)"
echo "ok: no region: $out"
echo PASS
