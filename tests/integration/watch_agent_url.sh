#!/usr/bin/env bash
# leakscope watch URL on a service already running under the agent, then leakscope report DIR:
# the hanging-thread leak is found by its function, the report re-renders from report.json, is the
# same when interpreted again from the snapshots (report --reanalyse), and a suppressions file
# for that function turns the verdict into no leak (exit 0).
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
demo_service cpp
port=$PORT
LD_PRELOAD=$BUILD/libleakscope.so LEAKSCOPE_ADDR=127.0.0.1:0 LEAKSCOPE_ANNOUNCE=$WORK/announce \
  "$SVC" --port "$port" >"$WORK/svc.log" 2>&1 &
track $!
for _ in $(seq 100); do [[ -s $WORK/announce ]] && grep -q listening "$WORK/svc.log" && break; sleep 0.1; done
url=http://$(head -1 "$WORK/announce")
"$PACED" "http://127.0.0.1:$port/hanging-thread" 300 25 >/dev/null &
track $!
rc=0
leakscope_rc watch --duration 10 --out "$WORK/out" "$url" >"$WORK/watch.txt" || rc=$?
cat "$WORK/watch.txt"
[[ $rc -eq 3 ]] || { echo "FAIL: exit $rc, expected 3" >&2; exit 1; }
grep -q "LEAK  threads  leak_hanging_thread" "$WORK/watch.txt"
python3 - "$WORK/out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["target"]["source"] == "agent" and r["target"]["url"].startswith("http://127.0.0.1:")
PY
# Re-render: same verdict, same first line.
rc=0
leakscope_rc report "$WORK/out" >"$WORK/again.txt" || rc=$?
[[ $rc -eq 3 ]] && [[ $(head -1 "$WORK/again.txt") == "$(head -1 "$WORK/watch.txt")" ]]
[[ -s $WORK/out/report.html ]]
# Interpreted again from its snapshots (the run model fed from disk): the same report.
cp -r "$WORK/out" "$WORK/again"
rc=0
leakscope_rc report --reanalyse --json "$WORK/again" >"$WORK/again.json" || rc=$?
[[ $rc -eq 3 ]] || { echo "FAIL: report --reanalyse: exit $rc, expected 3" >&2; exit 1; }
python3 - "$WORK/out/report.json" "$WORK/again.json" <<'PY'
import json, sys
live, again = (json.load(open(p)) for p in sys.argv[1:])
assert live == again, [k for k in live if live[k] != again.get(k)]
PY
# Suppress the accepted site: no leak left.
printf '# accepted for this test\nleak_hanging_thread\n' >"$WORK/supp"
rc=0
leakscope_rc report --suppress "$WORK/supp" --json "$WORK/out" >"$WORK/supp.json" || rc=$?
python3 - "$WORK/supp.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] != "leak", r["summary"]
assert all(f["suppressed"] for f in r["findings"] if f["verdict"] == "leak")
PY
[[ $rc -eq 0 ]] || { echo "FAIL: suppressed report: exit $rc, expected 0" >&2; exit 1; }
echo ok
