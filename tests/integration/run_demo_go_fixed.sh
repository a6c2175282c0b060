#!/usr/bin/env bash
# No false positives on the Go demo's fixed variants and steady cache, through net/http/pprof.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need wrk python3
SVC=$BUILD/examples/leaky-go/bin/leaky-go
[[ -x $SVC ]] || { echo "skip: $SVC not built" >&2; exit 77; }
port=$(free_port)
debug=$(free_port)
u=http://127.0.0.1:$port
f="?fixed=1"
load="$PACED $u/append-slice$f 3000 300 4 & $PACED $u/request-context$f 1500 150 &"
load+=" $PACED $u/hanging-thread$f 200 20 & $PACED $u/fanout$f 200 20 &"
load+=" $PACED $u/open-file$f 300 30 & $PACED $u/call-backend$f 300 30 &"
load+=" $PACED $u/metrics-by-path$f 500 50 & $PACED $u/steady-cache 12000 1000 8 & wait"
rc=0
leakscope_rc run --baseline 3 --cooldown 6 --rate 16K --pprof "http://127.0.0.1:$debug" \
  --out "$WORK/out" --load "$load" -- "$SVC" -port "$port" -debug-port "$debug" -mem-profile-rate 16384 || rc=$?
python3 "$CHECK" "$WORK/out/report.json" "$TRUTH" go --none
expect_no_leak "$rc" "$WORK/out"
