#!/usr/bin/env bash
# Sampled blocks live in the agent's sample region (agent/heap/region.h); every entry point that can
# receive one must handle it. tests/agent/region_host.cc hands them to malloc_usable_size,
# realloc, reallocarray, calloc, the aligned allocators, sized/aligned/nothrow deletes, another
# thread, a forked child and (on jemalloc) jemalloc's sdallocx/dallocx/sallocx/rallocx/xallocx, (on
# tcmalloc) tc_free/tc_free_sized/tc_delete_sized/tc_realloc/tc_malloc_size, on
# top of glibc, jemalloc and tcmalloc (the agent first in
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
    host_run jemalloc "$rate" LD_PRELOAD="$AGENT $LIBDIR/libjemalloc.so.2" REGION_HOST_NO_PVALLOC=1 \
      REGION_HOST_JEMALLOC=1
  else
    echo "skip: no libjemalloc.so.2"
  fi
  if [[ -e $LIBDIR/libtcmalloc.so.4 ]]; then
    host_run tcmalloc "$rate" LD_PRELOAD="$AGENT $LIBDIR/libtcmalloc.so.4" REGION_HOST_TCMALLOC=1
  else
    echo "skip: no libtcmalloc.so.4"
  fi
done

echo "== Debian's redis-server (on jemalloc: zmalloc calls malloc_usable_size, realloc) at rate 1"
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null &&
  command -v redis-benchmark >/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  env LD_PRELOAD="$AGENT" LEAKSCOPE_RATE=1 timeout 120 redis-server --port "$port" \
    --bind 127.0.0.1 --save "" --appendonly no >"$TMP/redis.log" 2>&1 &
  PIDS+=("$!")
  for ((i = 0; i < 100; i++)); do
    [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] && break
    sleep 0.1
  done
  timeout 60 redis-benchmark -p "$port" -q -n 5000 -c 4 -P 8 -t set,get,lpush,lpop -d 300 \
    -r 1000 >/dev/null || fail "redis-benchmark under the agent"
  value=$(head -c 5000 /dev/zero | tr '\0' x)
  redis-cli -p "$port" set grown "$value" >/dev/null
  for ((i = 0; i < 50; i++)); do redis-cli -p "$port" append grown "$value" >/dev/null; done
  [[ $(redis-cli -p "$port" strlen grown) == 255000 ]] || fail "redis: appended value"
  redis-cli -p "$port" info memory | grep -q '^mem_allocator:jemalloc' || fail "redis: info memory"
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "${PIDS[-1]}" || fail "redis-server: status $? ($(tail -3 "$TMP/redis.log"))"
  echo "ok: redis-server at rate 1"
else
  echo "skip: no redis-server"
fi

echo "== no region (RLIMIT_AS of 400 MB): the host's blocks and the live set"
out=$( (ulimit -v 400000 && LD_PRELOAD="$AGENT" LEAKSCOPE_RATE=1 REGION_HOST_NO_HUGE=1 \
  timeout 120 "$PROG") 2>&1) || fail "no region: $out"
[[ $out =~ exact=([0-9]+)/([0-9]+) && ${BASH_REMATCH[1]} != "${BASH_REMATCH[2]}" ]] ||
  fail "no region: blocks still came from a region ($out)"
echo "ok: no region: $out"
echo PASS
