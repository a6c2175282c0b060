#!/usr/bin/env bash
# leakscope fleet on a live fleet: Debian's Prometheus scrapes six demo services on loopback every
# second, all under a bounded, paced load of 120 s:
#   job "cpp" (the agent's /metrics): three leaky-service under the agent; cpp-leak gets
#             /append-slice (2 KiB held per request), the two others /append-slice?fixed=1;
#   job "go"  (the service's /metrics): three leaky-go; go-threads gets /hanging-thread (one
#             goroutine parked per request), go-paths /metrics-by-path (one series per distinct
#             URL), go-fixed /metrics-by-path?fixed=1.
# `leakscope fleet --window 45s` must name exactly cpp-leak (heap; its site leak_append_slice),
# go-threads (goroutines; its site main.leakHangingThread) and go-paths (metrics, label "path"),
# and no other. The sites come from profiles taken through --debug-url 'http://{pprof}', the
# target label "pprof" that the scrape configuration gives each target (the agent's address, or
# the Go service's net/http/pprof). 15 s of profiles per suspect, taken one after another:
# watch's floor for counts is a tenth of the level, and go-threads' goroutines (exact counts, 20
# a second) grow 15/(t+15) of their level over a profile that starts t s into the load: above
# the tenth while t < 135 s; the third profile starts at about 85 s (it was 25 s each: the test
# took 134 s, now about 100). Skips (77) without prometheus, wrk or the Go twin.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
source "$SRC/tests/fleet/lib.sh"
command -v wrk >/dev/null || { echo "SKIP: wrk is not installed"; exit 77; }
CPP_BIN=$BUILD/examples/leaky-service/leaky-service
GO_BIN=$BUILD/examples/leaky-go/bin/leaky-go
[[ -x $CPP_BIN ]] || fail "$CPP_BIN is not built"
[[ -x $GO_BIN ]] || { echo "SKIP: $GO_BIN not built (no Go toolchain)"; exit 77; }

# port_of LOG: sets PORT to the service's port from its "listening on 127.0.0.1:PORT" line; its
# backend's pid (the "backend on ... pid N" line) is added to PIDS. Not in a subshell (PIDS).
port_of() {
  wait_for_line "$1" '^listening on ' 20
  wait_for_line "$1" '^backend on .* pid [0-9]+$' 20
  PIDS+=("$(sed -n 's/^backend on .* pid \([0-9][0-9]*\)$/\1/p' "$1")")
  PORT=$(sed -n 's/^listening on [0-9.]*:\([0-9][0-9]*\)$/\1/p' "$1")
}

declare -A URL TARGET DEBUG
for name in cpp-leak cpp-fixed1 cpp-fixed2; do
  start_agent "$name" LEAKSCOPE_RATE=16K -- "$CPP_BIN" --port 0
  port_of "$TMP/$name.log"
  URL[$name]=http://127.0.0.1:$PORT
  TARGET[$name]=$ADDR
  DEBUG[$name]=$ADDR
done
for name in go-threads go-paths go-fixed; do
  "$GO_BIN" -port 0 -debug-port 0 >"$TMP/$name.log" 2>&1 &
  PIDS+=("$!")
  port_of "$TMP/$name.log"
  URL[$name]=http://127.0.0.1:$PORT
  TARGET[$name]=${URL[$name]#http://}
  wait_for_line "$TMP/$name.log" '^pprof on ' 20
  DEBUG[$name]=$(sed -n 's/^pprof on \(127\.0\.0\.1:[0-9][0-9]*\)$/\1/p' "$TMP/$name.log")
done

# Each target carries its debug address as the label "pprof", as service discovery can.
target() { echo "      - {targets: [\"${TARGET[$1]}\"], labels: {pprof: \"${DEBUG[$1]}\"}}"; }
{
  echo "global: {scrape_interval: 1s, scrape_timeout: 1s}"
  echo "scrape_configs:"
  echo "  - job_name: cpp"
  echo "    static_configs:"
  for name in cpp-leak cpp-fixed1 cpp-fixed2; do target "$name"; done
  echo "  - job_name: go"
  echo "    static_configs:"
  for name in go-threads go-paths go-fixed; do target "$name"; done
} >"$TMP/prometheus.yml"
mkdir -p "$TMP/tsdb"
start_prometheus "$TMP/prometheus.yml" "$TMP/tsdb"

echo "== 120 s of paced load on all six"
SECONDS_OF_LOAD=120
loadgen() {  # loadgen NAME PATH RATE: paced, bounded in count (RATE x 120) and time
  "$SRC/examples/load/paced-load" "${URL[$1]}$2" $(($3 * SECONDS_OF_LOAD)) "$3" 2 \
    >"$TMP/$1.wrk" 2>&1 &
  PIDS+=("$!")
}
loadgen cpp-leak /append-slice 300
loadgen cpp-fixed1 '/append-slice?fixed=1' 200
loadgen cpp-fixed2 '/append-slice?fixed=1' 200
loadgen go-threads /hanging-thread 20
loadgen go-paths /metrics-by-path 50
loadgen go-fixed '/metrics-by-path?fixed=1' 50
sleep 50

echo "== leakscope fleet, while the load still runs"
set +e
"$BUILD/leakscope" fleet --prometheus "$PROM" --window 45s --step 1s \
  --debug-url 'http://{pprof}' --profile-seconds 15 --max-profiles 3 --json --out "$TMP/out" \
  >"$TMP/fleet.json" 2>"$TMP/fleet.err"
rc=$?
set -e
cat "$TMP/fleet.err"
cat "$TMP/out/fleet.txt" || true
((rc == 3)) || fail "exit $rc, want 3"

python3 - "$TMP/fleet.json" "${TARGET[cpp-leak]}" "${TARGET[go-threads]}" "${TARGET[go-paths]}" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
cpp, threads, paths = sys.argv[2:5]
want = {cpp: "heap", threads: "goroutines", paths: "metrics"}
bad = []
for i in doc["instances"]:
    if i["instance"] in want:
        if i["verdict"] != "leak" or want[i["instance"]] not in i["kinds"]:
            bad.append("missed %s: %s %s %s" % (i["instance"], i["verdict"], i["kinds"], i["evidence"]))
    elif i["verdict"] == "leak":
        bad.append("false alarm %s: %s %s" % (i["instance"], i["kinds"], i["evidence"]))
for name, site in ((cpp, "leak_append_slice"), (threads, "main.leakHangingThread"),
                   (paths, "leaky_path_requests_total")):
    leaker = [i for i in doc["instances"] if i["instance"] == name]
    if leaker and not any(s["function"].startswith(site) for s in leaker[0]["sites"]):
        bad.append("%s: site %s not in %s (%s)" % (name, site, leaker[0]["sites"], leaker[0]["next_step"]))
fams = {m["family"]: m for m in doc["metrics"]}
m = fams.get("leaky_path_requests_total")
if not m or m["verdict"] != "leak" or m.get("label") != "path":
    bad.append("family leaky_path_requests_total: %s" % m)
for b in bad:
    print("FAIL:", b)
print("ok" if not bad else "%d problems" % len(bad))
sys.exit(1 if bad else 0)
PY
