#!/usr/bin/env bash
# leakscope fleet on 24 hours of 200 instances: tests/fleet/gen_history.py writes the history
# (steady, GC waves, deploy restarts, a cache that fills; slow leaks, OOM-restart loops,
# goroutine leaks, a metric family keyed by raw path) as OpenMetrics, promtool turns it into TSDB
# blocks, Debian's Prometheus serves them on loopback, and one `leakscope fleet --window 24h`
# must name every generated leak with its kind, and no other instance. Deterministic (fixed
# seed). Prints the run's time and peak memory (BENCHMARKS.md, "fleet"). Skips (77) without
# prometheus.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
source "$SRC/tests/fleet/lib.sh"

STEP=120
END=$(($(date +%s) / STEP * STEP))
echo "== 24 h of 200 instances"
python3 "$SRC/tests/fleet/gen_history.py" "$TMP/history.om" "$TMP/truth.txt" --instances 200 \
  --hours 24 --step "$STEP" --end "$END" --seed 7
mkdir -p "$TMP/tsdb"
ls "$TMP"/history.om.* | xargs -P 2 -I{} "$PROMTOOL" tsdb create-blocks-from openmetrics -q {} "$TMP/tsdb" \
  >"$TMP/promtool.log" 2>&1 || fail "promtool: $(tail -n 5 "$TMP/promtool.log")"
rm -f "$TMP"/history.om.*
printf 'global: {scrape_interval: 1m}\nscrape_configs: []\n' >"$TMP/prometheus.yml"
start_prometheus "$TMP/prometheus.yml" "$TMP/tsdb"

echo "== leakscope fleet"
set +e
/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak RSS" -o "$TMP/time.txt" "$BUILD/leakscope" fleet --prometheus "$PROM" \
  --window 24h --step 2m --end "$END" --json --out "$TMP/out" >"$TMP/fleet.json" 2>"$TMP/fleet.err"
rc=$?
set -e
cat "$TMP/fleet.err"
echo "time and peak memory: $(tail -n 1 "$TMP/time.txt")"
((rc == 3)) || fail "exit $rc, want 3"
[[ -s $TMP/out/fleet.html && -s $TMP/out/fleet.txt ]] || fail "no fleet.html / fleet.txt in --out"
head -n 40 "$TMP/out/fleet.txt"

python3 - "$TMP/fleet.json" "$TMP/truth.txt" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == "leakscope.fleet/v1", doc["schema"]
assert doc["window_s"] == 86400, doc["window_s"]
got = {i["instance"]: i for i in doc["instances"]}
kinds = {"slowleak": "rss", "oomloop": "rss", "goroutines": "goroutines", "cardinality": "metrics"}
bad = []
truth = [line.split() for line in open(sys.argv[2])]
assert len(got) == len(truth) == 200, (len(got), len(truth))
for name, job, shape, want in truth:
    i = got[name]
    for key in ("instance", "job", "verdict", "kinds", "evidence", "restarts", "time_to_limit_s", "sites"):
        assert key in i, key
    assert i["job"] == job
    if want == "leak":
        if i["verdict"] != "leak" or kinds[shape] not in i["kinds"]:
            bad.append("missed %s (%s): %s %s %s" % (name, shape, i["verdict"], i["kinds"], i["evidence"]))
        if shape == "oomloop" and (i["restarts"] < 10 or i["time_to_limit_s"] is None or i["time_to_limit_s"] > 3600):
            bad.append("oom loop %s: restarts %s, time to limit %s" % (name, i["restarts"], i["time_to_limit_s"]))
        if shape == "slowleak" and i["time_to_limit_s"] is None:
            bad.append("slow leak %s: no time to the limit" % name)
    elif i["verdict"] == "leak":
        bad.append("false alarm %s (%s): %s %s" % (name, shape, i["kinds"], i["evidence"]))
    elif shape == "deploys" and i["restarts"] != 3:
        bad.append("deploys %s: %s restarts, want 3" % (name, i["restarts"]))
fams = {m["family"]: m for m in doc["metrics"]}
m = fams.get("http_requests_by_path_total")
if not m or m["verdict"] != "leak" or m.get("label") != "path" or m["series_end"] <= m["series_start"]:
    bad.append("metric family: %s" % m)
for f, m in fams.items():
    if f != "http_requests_by_path_total" and m["verdict"] == "leak":
        bad.append("false alarm on family %s" % f)
for b in bad:
    print("FAIL:", b)
leaks = sum(1 for t in truth if t[3] == "leak")
print("ok: %d generated leaks found, %d instances judged, %d problems" % (leaks, len(truth), len(bad)))
sys.exit(1 if bad else 0)
PY
