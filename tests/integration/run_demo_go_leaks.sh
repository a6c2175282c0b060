#!/usr/bin/env bash
# A Go service's leaks found through its own net/http/pprof, with no agent: leakscope run
# --pprof on the Go demo (examples/leaky-go) finds every pattern of examples/ground_truth.json
# (heap and goroutine sites by function; descriptors from /proc, which has no stacks). A heap
# sampling rate of 16 KiB makes the few hundred small os.File / transport objects of the
# descriptor patterns visible within a 12 s load: leakscope passes --rate as
# GODEBUG=memprofilerate, which Go 1.19's runtime overwrites at init, so the service's own
# -mem-profile-rate flag sets it here.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need wrk python3
SVC=$BUILD/examples/leaky-go/bin/leaky-go
[[ -x $SVC ]] || { echo "skip: $SVC not built" >&2; exit 77; }
port=$(free_port)
debug=$(free_port)
u=http://127.0.0.1:$port
load="$PACED $u/append-slice 3000 300 & $PACED $u/request-context 3000 300 &"
load+=" $PACED $u/hanging-thread 200 20 & $PACED $u/fanout 400 40 &"
load+=" $PACED $u/open-file 500 50 & $PACED $u/call-backend 500 50 & wait"
rc=0
leakscope_rc run --baseline 3 --cooldown 6 --rate 16K --pprof "http://127.0.0.1:$debug" \
  --out "$WORK/out" --load "$load" -- "$SVC" -port "$port" -debug-port "$debug" -mem-profile-rate 16384 || rc=$?
[[ $rc -eq 3 ]] || { echo "FAIL: exit $rc, expected 3 (leak found)" >&2; exit 1; }
python3 "$CHECK" "$WORK/out/report.json" "$TRUTH" go \
  --expect append-slice,request-context,hanging-thread,fanout,open-file,call-backend
python3 - "$WORK/out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["target"]["source"] == "pprof", r["target"]
assert "goroutines" in r["series"], sorted(r["series"])
PY
