#!/usr/bin/env bash
# A real Prometheus server (Debian's prometheus package) scrapes the agent's /metrics every
# second, and what it stored is read back through its query API:
#   job "heap":     agent_named_sites at LEAKSCOPE_RATE=64K behind a bearer token (Prometheus
#                   sends it: `authorization: {credentials: ...}`); its live heap is known
#                   (85007408 bytes, exact at rate 1; see agent_metrics.sh), and the estimate
#                   must lie within 6 sigma of it. Sigma: each object of size s is sampled with
#                   p = 1 - exp(-s/rate) and weighs s/p, so Var = sum n s^2 (1-p)/p; for 16384 x
#                   4 KiB and 2048 x 8 KiB at 64 KiB that is 2.3 MB, so 6 sigma = 13.8 MB.
#   job "notoken":  the same target without the token: down (401).
#   job "trackers": leaky_sites at rate 1, whose threads and descriptors are known exactly
#                   before and after its leak, and whose allocation counter increases.
# Skips (77) only when prometheus is not installed (started by tests/fleet/lib.sh).
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
source "$SRC/tests/fleet/lib.sh"

KNOWN_HEAP=85007408
SIX_SIGMA=13800000

# query PROMQL: the value of the query's single result, or "" when there is none.
query() {
  local answer
  answer=$(curl -sf --max-time 10 --get --data-urlencode "query=$1" "$PROM/api/v1/query") ||
    return 0  # not up yet
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "")' "$answer"
}

# wait_for_query PROMQL WANTED [SECONDS]: waits until the query answers WANTED.
wait_for_query() {
  local i got=""
  for ((i = 0; i < ${3:-60} * 4; i++)); do
    got=$(query "$1" || true)
    [[ $got == "$2" ]] && { echo "ok: $1 = $got"; return 0; }
    kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus exited: $(tail -n 5 "$TMP/prometheus.log")"
    sleep 0.25
  done
  fail "$1: got '$got', want $2 (waited ${3:-60} s)"
}

start_agent heap LEAKSCOPE_RATE=64K LEAKSCOPE_TOKEN=s3cret -- "$BUILD/agent_named_sites" "$TMP/heap.ready"
wait_for_file "$TMP/heap.ready"
HEAP_ADDR=$ADDR
start_agent trackers LEAKSCOPE_RATE=1 -- "$BUILD/leaky_sites" "$TMP/status"
wait_for_line "$TMP/status" '^ready'
TRACKERS_ADDR=$ADDR LEAKY=$PID

cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: heap
    authorization: {credentials: s3cret}
    static_configs: [{targets: ["$HEAP_ADDR"]}]
  - job_name: notoken
    static_configs: [{targets: ["$HEAP_ADDR"]}]
  - job_name: trackers
    static_configs: [{targets: ["$TRACKERS_ADDR"]}]
EOF
mkdir -p "$TMP/tsdb"
start_prometheus "$TMP/prometheus.yml" "$TMP/tsdb"

echo "== scraped: up, with the token and not without it"
wait_for_query 'up{job="heap"}' 1
wait_for_query 'up{job="trackers"}' 1
wait_for_query 'up{job="notoken"}' 0
# up == 0 may also be a timeout on a busy machine: wait (bounded) for a scrape that saw the 401.
for ((i = 0; i < 120; i++)); do
  curl -sf --max-time 10 "$PROM/api/v1/targets" | grep -q 'server returned HTTP status 401' &&
    break
  sleep 0.25
done
((i < 120)) || fail "the scrape without the token did not fail with 401"
echo "ok: without the token the scrape fails with 401"

echo "== the heap estimate, through Prometheus"
heap=$(query 'leakscope_heap_inuse_bytes{job="heap"}')
[[ -n $heap ]] || fail "no leakscope_heap_inuse_bytes"
((heap > KNOWN_HEAP - SIX_SIGMA && heap < KNOWN_HEAP + SIX_SIGMA)) ||
  fail "heap estimate $heap is not within $SIX_SIGMA of $KNOWN_HEAP"
echo "ok: heap estimate $heap, known $KNOWN_HEAP ($(((heap - KNOWN_HEAP) * 1000 / KNOWN_HEAP)) per mille off)"
wait_for_query 'leakscope_sample_rate_bytes{job="heap"}' 65536
wait_for_query 'leakscope_sample_rate_bytes{job="trackers"}' 1
wait_for_query 'leakscope_sampling_dormant{job="heap"}' 0

echo "== threads and descriptors, before and after the leak; a counter that increases"
wait_for_query 'leakscope_tracked_threads{job="trackers",state="running"}' 0
allocs_before=$(query 'leakscope_heap_alloc_objects_total{job="trackers"}')
kill -USR1 "$LEAKY"
wait_for_line "$TMP/status" '^leaked'
wait_for_query 'leakscope_tracked_threads{job="trackers",state="running"}' 8
wait_for_query 'leakscope_tracked_threads{job="trackers",state="exited_unjoined"}' 1
wait_for_query 'leakscope_tracked_fds{job="trackers",kind="file"}' 4
wait_for_query 'leakscope_tracked_fds{job="trackers",kind="socket"}' 6
wait_for_query 'leakscope_tracked_fds{job="trackers",kind="pipe"}' 14
allocs_after=$(query 'leakscope_heap_alloc_objects_total{job="trackers"}')
((allocs_after > allocs_before)) || fail "allocations counter: $allocs_before then $allocs_after"
echo "ok: leakscope_heap_alloc_objects_total $allocs_before -> $allocs_after"
wait_for_query 'resets(leakscope_heap_alloc_objects_total{job="trackers"}[5m])' 0
echo PASS
