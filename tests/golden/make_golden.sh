#!/usr/bin/env bash
# The golden run of tests/integration/report_golden.sh: a short `leakscope run` of the C++ demo
# service (2 s baseline, a few seconds of load on four of its leaks and its steady cache, 4 s of
# cooldown, a snapshot every 0.5 s), its profiles symbolized once and stripped of machine paths
# (golden_scrub), checked in under tests/data/golden/run/, and the report leakscope makes of it
# with no process started (`leakscope report --reanalyse --json`), normalized, as
# tests/data/golden/expected.json.
#
#   tests/golden/make_golden.sh [BUILD_DIR]              record a new run, then expected.json
#   tests/golden/make_golden.sh --expected [BUILD_DIR]   expected.json only, from the run checked in
#
# Regenerate expected.json (--expected) when a change to the interpretation is meant, and say in
# the commit what changed in it; record a new run only when the inputs must change (new profile
# kinds, series.json fields).
set -euo pipefail
only_expected=0
if [[ ${1:-} == --expected ]]; then only_expected=1; shift; fi
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
GOLDEN=$SRC/tests/data/golden
WORK=$(mktemp -d)
trap '[[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"' EXIT

if [[ $only_expected == 0 ]]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  u=http://127.0.0.1:$port
  # curl loops, a few hundred requests: enough for the leaks to show in a short recording.
  each() { echo "for i in \$(seq $2); do curl -s $u/$1 >/dev/null; done &"; }
  load="$(each append-slice 200) $(each hanging-thread 15) $(each open-file 40)"
  load+=" $(each metrics-by-path 100) $(each steady-cache 200) wait"
  rc=0
  "$BUILD/leakscope" run --baseline 2 --cooldown 4 --interval 0.5 --metrics "$u/metrics" \
    --out "$WORK/raw" --load "$load" -- "$BUILD/examples/leaky-service/leaky-service" \
    --port "$port" >/dev/null || rc=$?
  [[ $rc == 0 || $rc == 3 ]] || { echo "make_golden: leakscope run exited $rc" >&2; exit 1; }
  rm -rf "$GOLDEN/run"
  mkdir -p "$GOLDEN/run/snapshots"
  # series.json without machine paths, ports, pids or dates; the files it names, scrubbed.
  python3 - "$WORK/raw/series.json" "$GOLDEN/run/series.json" "$SRC" "$BUILD" "$port" <<'PY'
import json, os, sys
src, dst, root, build, port = sys.argv[1:]
def scrub(s):
    return (s.replace(build, "build").replace(root, ".").replace(f":{port}", ":8080")
            if isinstance(s, str) else s)
d = json.load(open(src))
d["started_at"] = "2026-01-01T00:00:00Z"
d["pid"] = None
for k in ("url", "metrics_url"):
    d[k] = scrub(d[k])
d["command"] = [scrub(c) for c in d.get("command", [])]
d["notes"] = [scrub(n) for n in d.get("notes", [])]
for s in d["snapshots"]:
    s["errors"] = [scrub(e) for e in s["errors"]]
    s["cost_s"] = 0
json.dump(d, open(dst, "w"), indent=1, sort_keys=True)
open(dst, "a").write("\n")
PY
  files=$(python3 -c 'import json, sys; print("\n".join(f for s in json.load(open(sys.argv[1]))["snapshots"] for f in s["files"].values()))' "$GOLDEN/run/series.json")
  # shellcheck disable=SC2086
  "$BUILD/golden_scrub" "$SRC" "$WORK/raw" "$GOLDEN/run" $files
fi
cp -r "$GOLDEN/run" "$WORK/run"
rc=0
"$BUILD/leakscope" report --reanalyse --json "$WORK/run" >"$WORK/report.json" || rc=$?
[[ $rc == 0 || $rc == 3 ]] || { echo "make_golden: leakscope report exited $rc" >&2; exit 1; }
python3 "$SRC/tests/golden/normalize.py" "$WORK/report.json" >"$GOLDEN/expected.json"
echo "make_golden: wrote $GOLDEN/expected.json ($(du -sh "$GOLDEN/run" | cut -f1) of snapshots)"
