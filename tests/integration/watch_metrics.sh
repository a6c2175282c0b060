#!/usr/bin/env bash
# leakscope watch PID --metrics URL: a running C++ demo service (no agent: /proc figures and its
# own /metrics) while /metrics-by-path gets a new URL 30 times a second is a metrics leak named
# by its family (exit 3); the same load on ?fixed=1 is not (exit 0); a --metrics URL that never
# answers leaves gaps and a note, not a crash; and a pprof debug URL with no --metrics has its
# BASE/metrics found and used (a stub that answers Go's pprof routes and serves a family that
# grows by 20 series per scrape).
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
demo_service cpp
port=$PORT
"$SVC" --port "$port" >"$WORK/svc.log" 2>&1 &
svc=$!
track $svc
for _ in $(seq 100); do grep -q listening "$WORK/svc.log" && break; sleep 0.1; done
u=http://127.0.0.1:$port

"$PACED" "$u/metrics-by-path" 300 30 >/dev/null &
load=$!
track $load
rc=0
leakscope_rc watch --duration 8 --interval 0.5 --metrics "$u/metrics" --out "$WORK/leak" \
  "$svc" >"$WORK/leak.txt" || rc=$?
cat "$WORK/leak.txt"
[[ $rc -eq 3 ]] || { echo "FAIL: exit $rc, expected 3" >&2; exit 1; }
grep -q "LEAK  metrics  leaky_path_requests_total  (metric family)" "$WORK/leak.txt"
python3 - "$WORK/leak/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
leaks = [f for f in r["findings"] if f["verdict"] == "leak"]
assert [(f["kind"], f["metric"]) for f in leaks] == [("metrics", "leaky_path_requests_total")], leaks
f = leaks[0]
assert f["unit"] == "series" and f["stack"] == [] and f["growth"] > 50, f
assert "metric family leaky_path_requests_total: " in f["evidence"], f["evidence"]
PY
wait $load || true

"$PACED" "$u/metrics-by-path?fixed=1" 300 30 >/dev/null &
load=$!
track $load
rc=0
leakscope_rc watch --duration 6 --interval 0.5 --metrics "$u/metrics" --out "$WORK/fixed" \
  "$svc" >/dev/null || rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: fixed variant: exit $rc, expected 0" >&2; exit 1; }
wait $load || true

closed=$(free_port)
rc=0
leakscope_rc watch --duration 2 --interval 0.5 --metrics "127.0.0.1:$closed" --out "$WORK/gone" \
  "$svc" >/dev/null || rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: unreachable metrics: exit $rc, expected 0" >&2; exit 1; }
python3 - "$WORK/gone" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/series.json"))
assert all(snap["metrics"] is None for snap in s["snapshots"]), s["snapshots"]
r = json.load(open(d + "/report.json"))
assert any(n.startswith("metrics: ") and " scrapes of http://127.0.0.1:" in n for n in r["notes"]), r["notes"]
PY
stub=$(free_port)
python3 - "$stub" <<'PY' &
import http.server, sys
n = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global n
        if self.path == "/metrics":
            n += 20
            body = "# TYPE by_user_total counter\n" + "".join(
                'by_user_total{user="%d"} 1\n' % i for i in range(n))
        elif self.path.startswith(("/debug/pprof/goroutine", "/debug/pprof/heap")):
            body = "not a profile"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
track $!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$stub/metrics" >/dev/null && break; sleep 0.1; done
rc=0
leakscope_rc watch --duration 5 --interval 0.5 --out "$WORK/probe" "http://127.0.0.1:$stub" \
  >/dev/null || rc=$?
[[ $rc -eq 3 ]] || { echo "FAIL: probed metrics: exit $rc, expected 3" >&2; exit 1; }
python3 - "$WORK/probe/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert any(n.startswith("metrics: found http://127.0.0.1:") for n in r["notes"]), r["notes"]
assert [f["metric"] for f in r["findings"] if f["verdict"] == "leak"] == ["by_user_total"], r
PY
# A --metrics that is not a URL is a usage error.
rc=0
leakscope_rc watch --duration 1 --metrics "ftp://x:1/metrics" "$svc" 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || { echo "FAIL: bad --metrics: exit $rc, expected 2" >&2; exit 1; }
echo ok
