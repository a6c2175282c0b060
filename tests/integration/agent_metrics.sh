#!/usr/bin/env bash
# /metrics speaks Prometheus text format 0.0.4 (no Prometheus server needed here; the real one
# scrapes it in agent_prometheus.sh): the exact Content-Type, a body that ends with a newline, a
# HELP and a TYPE line before each family's samples, and `promtool check metrics` (Debian's
# prometheus package) finds nothing to say. Its figures are the agent's own, exact at rate 1:
# the known live heap and mappings of agent_named_sites, the known threads and descriptors of
# leaky_sites before, during and after its leak, counters that never decrease, the dormant
# switch. The token guards it like every other endpoint, and the trackers' families go away
# when the trackers are off.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"

# value NAME BODY: the value of the sample line named exactly NAME (with its labels).
value() { awk -v n="$1" '$1 == n { print $2 }' <<<"$2"; }

# check_format BODY_FILE: the 0.0.4 rules, line by line, then promtool when it is installed.
check_format() {
  [[ $(tail -c1 "$1" | od -An -c | tr -d ' ') == '\n' ]] || fail "body does not end with a newline"
  awk '
    /^# HELP / { help[$3] = 1; next }
    /^# TYPE / {
      if (!help[$3]) { print "TYPE before HELP: " $0; bad = 1 }
      if ($4 != "gauge" && $4 != "counter") { print "type: " $0; bad = 1 }
      family = $3; next }
    {
      name = $1; sub(/\{.*/, "", name)
      if (name != family) { print "sample outside its family: " $0; bad = 1 }
      if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"\})? -?[0-9]+$/) {
        print "not a sample line: " $0; bad = 1 }
      n++ }
    END { if (n == 0) { print "no samples"; bad = 1 } exit bad }' "$1" || fail "format of $1"
  if command -v promtool >/dev/null; then
    local lint
    lint=$(promtool check metrics <"$1" 2>&1) || fail "promtool check metrics: $lint"
    [[ -z $lint ]] || fail "promtool check metrics: $lint"
    echo "ok: promtool check metrics"
  fi
}

echo "== format, token, and the known heap of agent_named_sites (rate 1, trackers off)"
start_agent sites LEAKSCOPE_RATE=1 LEAKSCOPE_TOKEN=s3cret LEAKSCOPE_THREADS=0 LEAKSCOPE_FDS=0 \
  -- "$BUILD/agent_named_sites" "$TMP/sites.ready"
wait_for_file "$TMP/sites.ready"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$ADDR/metrics")
expect "status without the token" "$code" 401
curl -sf --max-time 10 -H 'Authorization: Bearer s3cret' -D "$TMP/head" -o "$TMP/sites.txt" \
  "http://$ADDR/metrics" || fail "GET /metrics with the token"
grep -qix $'content-type: text/plain; version=0.0.4; charset=utf-8\r' "$TMP/head" ||
  fail "Content-Type: $(grep -i content-type "$TMP/head")"
check_format "$TMP/sites.txt"
body=$(cat "$TMP/sites.txt")
heap=$(value leakscope_heap_inuse_bytes "$body")
# 64 MiB + 16 MiB of sites, 2 x 512 KiB of vectors, and libstdc++'s own emergency pool (< 1 MiB).
((heap >= 81 << 20 && heap < 82 << 20)) || fail "heap in use $heap, want 81 MiB + < 1 MiB"
echo "ok: heap in use $heap"
expect "mmap in use (8.5 MiB)" "$(value leakscope_mmap_inuse_bytes "$body")" 8912896
expect "mmap made (10 MiB)" "$(value leakscope_mmap_alloc_bytes_total "$body")" 10485760
expect "rate" "$(value leakscope_sample_rate_bytes "$body")" 1
expect "dormant" "$(value leakscope_sampling_dormant "$body")" 0
grep -q '^leakscope_tracked_' <<<"$body" && fail "tracker families while the trackers are off"
grep -q '^leakscope_table_entries{table="stacks"} [1-9]' <<<"$body" || fail "no stacks counted"
curl -sf --max-time 10 -H 'Authorization: Bearer s3cret' "http://$ADDR/debug/pprof/" |
  grep -q 'href="/metrics"' || fail "/metrics is not in the index page"

echo "== threads and descriptors of leaky_sites; counters never decrease"
start_agent leaky LEAKSCOPE_RATE=1 -- "$BUILD/leaky_sites" "$TMP/status"
wait_for_line "$TMP/status" '^ready'
before=$(fetch /metrics)
expect "running threads before" "$(value 'leakscope_tracked_threads{state="running"}' "$before")" 0
kill -USR1 "$PID"
wait_for_line "$TMP/status" '^leaked'
fetch /metrics >"$TMP/leaked.txt"
check_format "$TMP/leaked.txt"
during=$(cat "$TMP/leaked.txt")
expect "running threads" "$(value 'leakscope_tracked_threads{state="running"}' "$during")" 8
expect "exited, unjoined threads" \
  "$(value 'leakscope_tracked_threads{state="exited_unjoined"}' "$during")" 1
# The fifth file was closed by a raw syscall and the raw openat is of unknown origin: neither counts.
expect "files" "$(value 'leakscope_tracked_fds{kind="file"}' "$during")" 4
expect "sockets" "$(value 'leakscope_tracked_fds{kind="socket"}' "$during")" 6
expect "pipe ends" "$(value 'leakscope_tracked_fds{kind="pipe"}' "$during")" 14
kill -USR2 "$PID"
wait_for_line "$TMP/status" '^released'
after=$(fetch /metrics)
expect "running threads after" "$(value 'leakscope_tracked_threads{state="running"}' "$after")" 0
expect "pipe ends after" "$(value 'leakscope_tracked_fds{kind="pipe"}' "$after")" 0
for counter in leakscope_heap_alloc_objects_total leakscope_heap_alloc_bytes_total; do
  b=$(value $counter "$before") d=$(value $counter "$during") a=$(value $counter "$after")
  ((b < d && d <= a)) || fail "$counter: $b, $d, $a is not increasing"
  echo "ok: $counter $b < $d <= $a"
done

echo "== dormant"
curl -sf --max-time 10 -X POST "http://$ADDR/debug/leakscope/sampling?enable=0" >/dev/null ||
  fail "switching sampling off"
expect "dormant after switching off" "$(value leakscope_sampling_dormant "$(fetch /metrics)")" 1
echo PASS
