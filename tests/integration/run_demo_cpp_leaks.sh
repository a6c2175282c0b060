#!/usr/bin/env bash
# leakscope run finds every leak of the C++ demo service (examples/ground_truth.json), each with
# the right kind and the pattern's function in its site or stack, under one paced load of all
# patterns at once (about 12 s of load), and exits 3. Fan-out leaks 4 KiB of heap per request:
# 400 requests put it clear of the noise floor at the default 64 KiB sampling rate.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need wrk python3
SVC=$BUILD/examples/leaky-service/leaky-service
[[ -x $SVC ]] || { echo "skip: $SVC not built" >&2; exit 77; }
port=$(free_port)
u=http://127.0.0.1:$port
load="$PACED $u/append-slice 3000 300 & $PACED $u/request-context 3000 300 &"
load+=" $PACED $u/hanging-thread 200 20 & $PACED $u/fanout 400 40 &"
load+=" $PACED $u/open-file 500 50 & $PACED $u/call-backend 500 50 &"
load+=" $PACED $u/metrics-by-path 1000 100 & wait"
rc=0
leakscope_rc run --baseline 3 --cooldown 6 --out "$WORK/out" --load "$load" \
  -- "$SVC" --port "$port" || rc=$?
[[ $rc -eq 3 ]] || { echo "FAIL: exit $rc, expected 3 (leak found)" >&2; exit 1; }
python3 "$CHECK" "$WORK/out/report.json" "$TRUTH" cpp \
  --expect append-slice,request-context,hanging-thread,fanout,open-file,call-backend
# The run directory holds what the README promises.
for f in report.json report.html growth.folded final.folded series.json; do
  [[ -s $WORK/out/$f ]] || { echo "FAIL: $f missing" >&2; exit 1; }
done
ls "$WORK"/out/snapshots/*.heap.pb.gz >/dev/null
grep -q "leak_append_slice" "$WORK/out/growth.folded"
