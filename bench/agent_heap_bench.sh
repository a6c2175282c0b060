#!/usr/bin/env bash
# The agent's heap-sampling overhead, side by side with no agent, heaptrack and tcmalloc's heap
# profiler, in one run (BENCHMARKS.md, "The agent: heap sampling overhead").
#
#   bench/agent_heap_bench.sh [BUILD_DIR] [REPS]      (default: build, 7)
#
# (a) bench/agent_heap_malloc_bench.cc, 2 threads, wall time: median of REPS runs per setting,
#     settings interleaved run by run so that machine drift hits all of them alike.
#     Large size (10M iterations per thread): none, agent default rate, agent dormant.
#     Small size (500k per thread): none, agent rate 1, heaptrack, tcmalloc alone, tcmalloc
#     with HEAPPROFILE (these record every allocation, hence the smaller size).
# (b) redis-server (Debian's, on jemalloc) under redis-benchmark on loopback, fixed request
#     count (SET and GET, 20 clients, pipeline 16, 64-byte values, 100k keys): median requests/s
#     and the server's RSS after the load. 1,000,000 requests per test for none vs the agent;
#     50,000 for none vs heaptrack vs tcmalloc HEAPPROFILE (2k requests/s under the latter).
# Prints markdown tables; ratios are to "none" of the same table. SECTIONS (environment) picks
# tables: default "a b c" (a: both malloc tables; b: redis none vs agent; c: redis comparisons).
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
REPS=${2:-7}
AGENT=$BUILD/libleakscope.so
BENCH=$BUILD/agent_heap_malloc_bench
TCMALLOC=$(ls /usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 2>/dev/null || true)
TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# run_setting NAME ITERATIONS: one timed run of the malloc benchmark; prints seconds.
run_setting() {
  local iters=$2
  case $1 in
    none) "$BENCH" "$iters" ;;
    agent) env LD_PRELOAD="$AGENT" "$BENCH" "$iters" ;;
    dormant) env LD_PRELOAD="$AGENT" LEAKSCOPE_DORMANT=1 "$BENCH" "$iters" ;;
    rate1) env LD_PRELOAD="$AGENT" LEAKSCOPE_RATE=1 "$BENCH" "$iters" ;;
    heaptrack) heaptrack -o "$TMP/ht" "$BENCH" "$iters" 2>/dev/null | grep -E '^[0-9.]+$'
      rm -f "$TMP"/ht* ;;
    tcmalloc) env LD_PRELOAD="$TCMALLOC" "$BENCH" "$iters" ;;
    tcmalloc_heapprofile) env LD_PRELOAD="$TCMALLOC" HEAPPROFILE="$TMP/tc" "$BENCH" "$iters" 2>/dev/null
      rm -f "$TMP"/tc* ;;
  esac
}

malloc_table() {  # malloc_table ITERATIONS SETTING...
  local iters=$1
  shift
  local s rep
  for ((rep = 0; rep < REPS; rep++)); do
    for s in "$@"; do run_setting "$s" "$iters" >>"$TMP/a.$iters.$s"; done
  done
  local base
  base=$(median <"$TMP/a.$iters.none")
  echo
  echo "| setting ($iters iterations per thread) | median s | ratio to none |"
  echo "| --- | --- | --- |"
  for s in "$@"; do
    local m
    m=$(median <"$TMP/a.$iters.$s")
    printf '| %s | %.3f | %.3f |\n' "$s" "$m" "$(echo "$m / $base" | bc -l)"
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# redis_run SETTING REQUESTS: starts redis-server under SETTING, loads it, prints
# "set_rps get_rps rss_kb".
redis_run() {
  local port pid prefix=()
  port=$(free_port)
  case $1 in
    none) prefix=(env) ;;
    agent) prefix=(env LD_PRELOAD="$AGENT") ;;
    heaptrack) prefix=(heaptrack -o "$TMP/rht") ;;
    tcmalloc_heapprofile) prefix=(env LD_PRELOAD="$TCMALLOC" HEAPPROFILE="$TMP/rtc") ;;
  esac
  "${prefix[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no >"$TMP/redis.log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 200; i++)); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  local out
  out=$(redis-benchmark -p "$port" -n "$2" -c 20 -P 16 -t set,get -r 100000 -d 64 --csv 2>/dev/null)
  pid=$(redis-cli -p "$port" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  rm -f "$TMP"/rht* "$TMP"/rtc*
  local set get
  set=$(echo "$out" | awk -F'","' '/^"SET"/ {print $2}')
  get=$(echo "$out" | awk -F'","' '/^"GET"/ {print $2}')
  echo "$set $get $rss"
}

redis_table() {  # redis_table REQUESTS SETTING...
  local s rep requests=$1
  shift
  rm -f "$TMP"/b.*
  for ((rep = 0; rep < REPS; rep++)); do
    for s in "$@"; do redis_run "$s" "$requests" >>"$TMP/b.$s"; done
  done
  local bset bget brss
  bset=$(awk '{print $1}' "$TMP/b.none" | median)
  bget=$(awk '{print $2}' "$TMP/b.none" | median)
  brss=$(awk '{print $3}' "$TMP/b.none" | median)
  echo
  echo "| redis-server, $requests requests per test | SET req/s | ratio | GET req/s | ratio | RSS after load | extra RSS |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for s in "$@"; do
    local set get rss
    set=$(awk '{print $1}' "$TMP/b.$s" | median)
    get=$(awk '{print $2}' "$TMP/b.$s" | median)
    rss=$(awk '{print $3}' "$TMP/b.$s" | median)
    printf '| %s | %.0f | %.3f | %.0f | %.3f | %.1f MiB | %+.1f MiB |\n' "$s" "$set" \
      "$(echo "$set / $bset" | bc -l)" "$get" "$(echo "$get / $bget" | bc -l)" \
      "$(echo "$rss / 1024" | bc -l)" "$(echo "($rss - $brss) / 1024" | bc -l)"
  done
}

echo "agent_heap_bench: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $REPS repetitions"
SECTIONS=${SECTIONS:-a b c}
if [[ " $SECTIONS " == *" a "* ]]; then
  malloc_table 10000000 none agent dormant
  malloc_table 500000 none rate1 heaptrack tcmalloc tcmalloc_heapprofile
fi
[[ " $SECTIONS " == *" b "* ]] && redis_table 1000000 none agent
[[ " $SECTIONS " == *" c "* ]] && redis_table 50000 none heaptrack tcmalloc_heapprofile
exit 0
