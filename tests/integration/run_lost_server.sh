#!/usr/bin/env bash
# The debug server goes away mid-run (here: the target execs another program, which runs without
# the agent): most snapshots then have no heap profile, and the report says so and is
# inconclusive, never "no leak".
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need python3
rc=0
timeout 60 "$LEAKSCOPE" run --baseline 1 --duration 7 --cooldown 1 --out "$WORK/out" \
  -- sh -c 'sleep 1.5; exec sleep 30' >"$WORK/out.txt" 2>"$WORK/err" || rc=$?
cat "$WORK/out.txt"
[[ $rc -eq 0 ]] || { cat "$WORK/err"; echo "FAIL: exit $rc, expected 0 (inconclusive)" >&2; exit 1; }
python3 - "$WORK/out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "inconclusive", r["verdict"]
assert any("snapshots have no heap profile" in n and "heap leaks invisible" in n
           for n in r["notes"]), r["notes"]
PY
echo ok
