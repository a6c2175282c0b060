#!/usr/bin/env bash
# Where no port may be opened: LEAKSCOPE_DUMP_DIR with LEAKSCOPE_DUMP_INTERVAL writes heap, mmap,
# threads and fds profiles on a timer, and LEAKSCOPE_DUMP_SIGNAL on a signal (threads and fds only
# while those trackers are on). Dormant mode (LEAKSCOPE_DORMANT=1) records nothing until
# LEAKSCOPE_TOGGLE_SIGNAL wakes it.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_named_sites
CHECK=$BUILD/agent_profile_sites
SITES=$(nm -S "$PROG" | awk '$4 ~ /^(leaky_cache_insert|session_buffer_alloc|mapped_region_alloc)$/ {printf "--site %s:%s:%s ", $4, $1, $2}')

echo "== interval dumps, no server"
mkdir "$TMP/d1"
env LD_PRELOAD="$AGENT" LEAKSCOPE_DUMP_DIR="$TMP/d1" LEAKSCOPE_DUMP_INTERVAL=1 \
  "$PROG" "$TMP/d1.ready" 2>"$TMP/d1.log" &
PIDS+=($!)
wait_for_file "$TMP/d1.ready"
for ((i = 0; i < 100; i++)); do
  (($(ls "$TMP/d1" | grep -c '^heap\..*\.pb\.gz$') >= 2)) && break
  sleep 0.1
done
ls "$TMP/d1"
last=$(ls "$TMP"/d1/heap.*.pb.gz | tail -n1)
# shellcheck disable=SC2086
"$CHECK" $SITES --expect leaky_cache_insert:inuse_space:67108864:0.5 "$last" || fail "dump content"
ls "$TMP"/d1/mmap.*.pb.gz >/dev/null || fail "no mmap dump"
ls "$TMP"/d1/threads.*.pb.gz "$TMP"/d1/fds.*.pb.gz >/dev/null || fail "no threads or fds dump"
[[ -z $(ls "$TMP/d1" | grep '\.tmp$' || true) ]] || fail "temporary files left"

echo "== dormant until the toggle signal; dump on a signal"
mkdir "$TMP/d2"
env LD_PRELOAD="$AGENT" LEAKSCOPE_DUMP_DIR="$TMP/d2" LEAKSCOPE_DORMANT=1 LEAKSCOPE_RATE=1 \
  LEAKSCOPE_THREADS=0 LEAKSCOPE_FDS=0 LEAKSCOPE_DUMP_SIGNAL=USR2 LEAKSCOPE_TOGGLE_SIGNAL=USR1 "$PROG" "$TMP/d2.ready" 2>"$TMP/d2.log" &
pid=$!
PIDS+=("$pid")
wait_for_file "$TMP/d2.ready"
kill -USR2 "$pid"
for ((i = 0; i < 100; i++)); do [[ -n $(ls "$TMP/d2") ]] && break; sleep 0.1; done
dormant=$(ls "$TMP"/d2/heap.*.pb.gz | head -n1)
# shellcheck disable=SC2086
"$CHECK" $SITES --expect leaky_cache_insert:alloc_space:0:0 "$dormant" || fail "dormant recorded"
kill -USR1 "$pid"
grep -q 'sampling switched on' "$TMP/d2.log" || { sleep 0.5; grep -q 'sampling switched on' "$TMP/d2.log"; } ||
  fail "toggle signal not seen"
kill -0 "$pid" || fail "host died on the signals"
[[ -z $(ls "$TMP/d2" | grep -E '^(threads|fds)\.' || true) ]] || fail "threads/fds dumped while off"

echo "== threads and fds dumps on a signal, with the exact counts per creation site"
if command -v go >/dev/null; then
  mkdir "$TMP/d3"
  env LD_PRELOAD="$AGENT" LEAKSCOPE_DUMP_DIR="$TMP/d3" LEAKSCOPE_DUMP_SIGNAL=HUP \
    "$BUILD/leaky_sites" "$TMP/d3.status" 2>"$TMP/d3.log" &
  pid=$!
  PIDS+=("$pid")
  wait_for_line "$TMP/d3.status" '^ready'
  kill -USR1 "$pid"
  wait_for_line "$TMP/d3.status" '^leaked'
  kill -HUP "$pid"
  for ((i = 0; i < 100; i++)); do
    [[ -n $(ls "$TMP/d3" | grep -E '^fds\..*\.pb\.gz$' || true) ]] && break
    sleep 0.1
  done
  top=$(go tool pprof -top "$BUILD/leaky_sites" "$TMP"/d3/threads.*.pb.gz 2>&1) || fail "threads dump: $top"
  echo "$top"
  [[ $(flat leak_thread_site_a "$top") == 3 && $(flat leak_thread_site_b "$top") == 5 ]] ||
    fail "threads dump: not 3 threads at site a and 5 at site b"
  top=$(go tool pprof -top "$BUILD/leaky_sites" "$TMP"/d3/fds.*.pb.gz 2>&1) || fail "fds dump: $top"
  echo "$top"
  [[ $(flat leak_file_site "$top") == 4 && $(flat leak_pipe_site "$top") == 14 ]] ||
    fail "fds dump: not 4 files and 14 pipe ends at their sites"
else
  echo "skipped: go is not installed"
fi

echo "== /debug/pprof/mmap at rate 1: exact, partial munmap included"
start_agent mm LEAKSCOPE_RATE=1 -- "$PROG" "$TMP/mm.ready"
wait_for_file "$TMP/mm.ready"
curl -sf --max-time 10 "http://$ADDR/debug/pprof/mmap" -o "$TMP/mmap.pb.gz" || fail "GET mmap"
# shellcheck disable=SC2086
"$CHECK" $SITES --expect mapped_region_alloc:inuse_space:8912896:0 \
  --expect mapped_region_alloc:alloc_space:10485760:0 \
  --expect mapped_region_alloc:inuse_objects:9:0 "$TMP/mmap.pb.gz" || fail "mmap profile"
echo PASS
