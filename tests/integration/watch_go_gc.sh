#!/usr/bin/env bash
# `watch` on a Go service forces a GC only as often as --gc says: `each` forces one per snapshot,
# `never` none, and the default (every=10) one in ten, so a production service is not collected
# every second. Counted by the runtime itself: with GODEBUG=gctrace=1 it logs every GC, and a
# forced one (runtime.GC, which ?gc=1 calls) ends in "(forced)". NumGC would not do: on a heap
# this small the scrapes' own allocations (a gzip writer per profile) start GCs of their own.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need go python3 curl
source "$SRC/tests/go/profgen/profgen.sh"
profgen_build "$WORK/go"
profgen_launch "$WORK/go" GODEBUG=gctrace=1
track "$PROFGEN_PID"
url=$PROFGEN_URL
num_gc() { grep -c '(forced)$' "$WORK/go/profgen.log" || true; }

# watch_gcs NAME ARGS...: the GCs during a watch of 8 snapshots (--interval 0.25 --duration 1.9).
watch_gcs() {
  local name=$1 before after rc=0
  shift
  before=$(num_gc)
  timeout 30 "$LEAKSCOPE" watch --duration 1.9 --interval 0.25 "$@" --out "$WORK/$name" "$url" \
    >/dev/null 2>"$WORK/$name.err" || rc=$?
  after=$(num_gc)
  [[ $rc -eq 0 || $rc -eq 3 ]] || { cat "$WORK/$name.err"; echo "FAIL: $name: exit $rc" >&2; exit 1; }
  snaps=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["snapshots"]))' \
    "$WORK/$name/series.json")
  echo "$name: $((after - before)) forced GCs over $snaps snapshots"
  GCS=$((after - before))
}
watch_gcs each --gc each
[[ $GCS -eq $snaps ]] || { echo "FAIL: --gc each: $GCS GCs for $snaps snapshots" >&2; exit 1; }
watch_gcs never --gc never
[[ $GCS -eq 0 ]] || { echo "FAIL: --gc never: $GCS GCs" >&2; exit 1; }
watch_gcs default
# The first snapshot forces one. One run in about five saw a second forced GC, which we could not
# reproduce or explain (each and never were exact in that run too); the bound still tells every
# tenth from each.
[[ $GCS -ge 1 && $GCS -le 2 ]] || { echo "FAIL: default: $GCS GCs" >&2; exit 1; }
watch_gcs every4 --gc every=4  # snapshots 0 and 4
[[ $GCS -ge 2 && $GCS -le 3 ]] || { echo "FAIL: --gc every=4: $GCS GCs" >&2; exit 1; }
python3 - "$WORK/default/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert any("(--gc every=10)" in n for n in r["notes"]), r["notes"]
PY
# A malformed setting is a usage error; --help says what the setting costs.
rc=0
"$LEAKSCOPE" watch --gc sometimes "$url" 2>/dev/null || rc=$?
[[ $rc -eq 2 ]] || { echo "FAIL: --gc sometimes: exit $rc, expected 2" >&2; exit 1; }
"$LEAKSCOPE" watch --help | tr -s ' \n' ' ' | grep -q "forces a full garbage collection"
echo ok
