#!/usr/bin/env bash
# The demo's own report opens in a real browser. Runs the demo exactly as scripts/demo does
# (examples/run-demo: leakscope run on the leaky C++ service under examples/load/demo-load, with
# its /metrics), checks its findings against examples/ground_truth.json, then opens the
# report.html it wrote in Debian's headless Chromium (web/test/check_page.mjs over
# playwright-core): no console error, uncaught exception or outside request; every chart and flame
# graph drawn; one card per finding of report.json; every leaking function (and metric family)
# named on the page; search, zoom and theme changes work.
# Keeps the run's report.{html,json} and light and dark screenshots in
# $LEAKSCOPE_BUILD/test-artifacts/report-demo/, and prints the page's load times (not asserted:
# BENCHMARKS.md has the measured figure).
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need wrk python3
source "$SRC/tests/report/lib.sh"
need_page_check
art=$BUILD/test-artifacts/report-demo
rm -rf "$art"
mkdir -p "$art"

rc=0
"$SRC/examples/run-demo" "$BUILD" "$WORK/demo" || rc=$?
cp "$WORK/demo/report.json" "$WORK/demo/report.html" "$art/" 2>/dev/null || true
[[ $rc -eq 3 ]] || { echo "FAIL: the demo's run exited $rc, expected 3 (leaks found)" >&2; exit 1; }
python3 "$CHECK" "$WORK/demo/report.json" "$TRUTH" cpp \
  --expect append-slice,hanging-thread,open-file,metrics-by-path

# What the page must show, read from the report it embeds: as many finding cards as findings, and
# the function of every leaking site (the family of every leaking metric).
mapfile -t expect < <(python3 - "$WORK/demo/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(len(r["findings"]))
for f in r["findings"]:
    fn = (f.get("site") or {}).get("function") or f.get("metric")
    if f["verdict"] == "leak" and fn:
        print(fn)
PY
)
args=(--expect-findings "${expect[0]}")
for fn in "${expect[@]:1}"; do args+=(--expect-text "$fn"); done
echo "the page must show ${expect[0]} findings and: ${expect[*]:1}"
timeout 180 node "$CHECK_PAGE" --html "$WORK/demo/report.html" \
  --screenshot "$art/demo.png" --dark "$art/demo-dark.png" --timings 3 "${args[@]}"
echo "artifacts in $art"
