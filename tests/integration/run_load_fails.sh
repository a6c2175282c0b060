#!/usr/bin/env bash
# A load that fails is not a load: a mistyped command (exit 127), a curl that finds nobody on its
# port (exit 7), or a wrk that sent nothing ends the run with an error that says so (exit 1),
# not "no leak", exit 0. With --load-may-fail the failure is a note and the verdict stands.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need python3 curl
port=$(free_port)  # nobody listens there

# expect_load_error NAME PATTERN LOAD: the run fails with exit 1 and PATTERN on stderr.
expect_load_error() {
  local name=$1 pattern=$2 load=$3 rc=0
  timeout 60 "$LEAKSCOPE" run --baseline 1 --cooldown 1 --out "$WORK/$name" --load "$load" \
    -- sleep 300 >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  cat "$WORK/$name.err"
  [[ $rc -eq 1 ]] || { echo "FAIL: $name: exit $rc, expected 1" >&2; exit 1; }
  grep -q "^leakscope: error: $pattern" "$WORK/$name.err" ||
    { echo "FAIL: $name: no '$pattern'" >&2; exit 1; }
  grep -q -- "--load-may-fail" "$WORK/$name.err" || { echo "FAIL: $name: no hint" >&2; exit 1; }
  python3 - "$WORK/$name/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "inconclusive", r["verdict"]
PY
}

expect_load_error mistyped "the load command exited with status 127" \
  "wrkk -c1 -d1 http://127.0.0.1:$port/"
grep -q "wrkk: .*not found" "$WORK/mistyped.err"  # the load's own words, quoted
expect_load_error refused "the load command exited with status 7" \
  "curl -sS -o /dev/null http://127.0.0.1:$port/"
expect_load_error nothing "the load command sent no request (wrk: 0 requests in" \
  "printf 'Running 1s test\n  0 requests in 1.00s, 0.00B read\n  Socket errors: connect 1\n'"

# --load-may-fail: the run completes, the failure is a note.
rc=0
timeout 60 "$LEAKSCOPE" run --baseline 1 --cooldown 1 --load-may-fail --out "$WORK/may" \
  --load "exit 3" -- sleep 300 >/dev/null 2>"$WORK/may.err" || rc=$?
cat "$WORK/may.err"
[[ $rc -eq 0 ]] || { echo "FAIL: --load-may-fail: exit $rc, expected 0" >&2; exit 1; }
python3 - "$WORK/may/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert any("the load command exited with status 3" in n and "--load-may-fail" in n
           for n in r["notes"]), r["notes"]
PY
echo ok
