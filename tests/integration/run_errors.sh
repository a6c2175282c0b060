#!/usr/bin/env bash
# A target that crashes, exits early, or never opens its debug port: a clear one-line error,
# exit 1, and the snapshots taken so far kept (with a partial report where there are any).
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need python3

# 1. Crashes during the load: the load itself kills it.
rc=0
leakscope_rc run --baseline 2 --cooldown 2 --out "$WORK/crash" --load "sleep 2; kill -SEGV \$LEAKSCOPE_TARGET_PID; sleep 5" \
  -- sleep 300 2>"$WORK/crash.err" >/dev/null || rc=$?
cat "$WORK/crash.err"
[[ $rc -eq 1 ]] || { echo "FAIL: crash: exit $rc, expected 1" >&2; exit 1; }
grep -q "^leakscope: error: sleep was killed by signal 11 .* during the load phase" "$WORK/crash.err"
grep -q "snapshots kept in $WORK/crash" "$WORK/crash.err"
[[ -s $WORK/crash/series.json && -s $WORK/crash/report.json ]]
python3 - "$WORK/crash" <<'PY'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/series.json"))
assert s["schema"] == "leakscope.series/v1"
assert len(s["snapshots"]) >= 3, len(s["snapshots"])
r = json.load(open(d + "/report.json"))
assert r["verdict"] == "inconclusive", r["verdict"]
assert any("incomplete run" in n for n in r["notes"]), r["notes"]
PY

# 2. Exits early, during the baseline.
rc=0
leakscope_rc run --baseline 5 --out "$WORK/early" --load "true" -- sh -c "sleep 1.5; exit 7" \
  2>"$WORK/early.err" >/dev/null || rc=$?
cat "$WORK/early.err"
[[ $rc -eq 1 ]] || { echo "FAIL: early exit: exit $rc, expected 1" >&2; exit 1; }
grep -q "^leakscope: error: sh exited with status 7 during the baseline phase" "$WORK/early.err"
[[ -s $WORK/early/series.json ]]

# 3. Never opens its port (--pprof on a port nobody listens on).
port=$(free_port)
rc=0
leakscope_rc run --startup-timeout 2 --pprof "http://127.0.0.1:$port" --out "$WORK/noport" \
  -- sleep 30 2>"$WORK/noport.err" >/dev/null || rc=$?
cat "$WORK/noport.err"
[[ $rc -eq 1 ]] || { echo "FAIL: no port: exit $rc, expected 1" >&2; exit 1; }
grep -q "^leakscope: error: sleep never answered on http://127.0.0.1:$port/debug/pprof/ within 2 s" \
  "$WORK/noport.err"
[[ $(grep -c "^leakscope: error:" "$WORK/noport.err") -eq 1 ]]
[[ -s $WORK/noport/series.json ]]

# 4. A program that cannot start at all.
rc=0
leakscope_rc run --out "$WORK/nostart" -- /nonexistent/program 2>"$WORK/nostart.err" || rc=$?
[[ $rc -eq 1 ]] && grep -q "cannot start /nonexistent/program: No such file" "$WORK/nostart.err"

# 5. Usage errors exit 2.
rc=0
leakscope_rc run --load true 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || { echo "FAIL: usage: exit $rc, expected 2" >&2; exit 1; }
echo "ok"
