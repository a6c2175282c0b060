#!/usr/bin/env bash
# leakscope watch PID: /proc figures only. A process that opens a file every 100 ms and never
# closes it is a descriptor leak (exit 3, kind fds, no stacks and a note saying so); an idle one
# is not (exit 0).
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need python3
python3 -c '
import time
held = []
for i in range(400):
    held.append(open("/dev/null"))
    time.sleep(0.1)
' &
leaker=$!
track $leaker
sleep 30 &
idle=$!
track $idle
rc=0
leakscope_rc watch --duration 8 --interval 0.5 --out "$WORK/leak" "$leaker" >"$WORK/leak.txt" || rc=$?
cat "$WORK/leak.txt"
[[ $rc -eq 3 ]] || { echo "FAIL: exit $rc, expected 3" >&2; exit 1; }
python3 - "$WORK/leak/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["target"]["source"] == "proc", r["target"]
assert "no stacks: /proc figures only" in r["notes"], r["notes"]
assert r["phases"][0]["name"] == "watch"
leaks = [f for f in r["findings"] if f["verdict"] == "leak"]
assert [f["kind"] for f in leaks] == ["fds"], leaks
assert leaks[0]["stack"] == [] and leaks[0]["growth"] > 20
PY
rc=0
leakscope_rc watch --duration 4 --interval 0.5 --out "$WORK/idle" "$idle" >/dev/null || rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: idle process: exit $rc, expected 0" >&2; exit 1; }
# A PID that does not exist is an error.
rc=0
leakscope_rc watch --duration 1 999999999 2>/dev/null || rc=$?
[[ $rc -eq 1 ]] || { echo "FAIL: missing pid: exit $rc, expected 1" >&2; exit 1; }
echo ok
