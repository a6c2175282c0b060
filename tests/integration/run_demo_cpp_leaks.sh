#!/usr/bin/env bash
# leakscope run finds every leak of the C++ demo service (examples/ground_truth.json), each with
# the right kind and the pattern's function (or metric family) in its site or stack, under one
# paced load of all patterns at once (about 10 s of load) with the service's /metrics scraped,
# and exits 3.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
demo_run cpp leaks
expect_demo_leaks cpp
# The run directory holds what the README promises, metric series counts included.
for f in report.json report.html growth.folded final.folded series.json; do
  [[ -s $WORK/out/$f ]] || { echo "FAIL: $f missing" >&2; exit 1; }
done
ls "$WORK"/out/snapshots/*.heap.pb.gz >/dev/null
grep -q "leak_append_slice" "$WORK/out/growth.folded"
python3 - "$WORK/out/series.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["metrics_url"].endswith("/metrics"), s["metrics_url"]
counts = [snap["metrics"]["leaky_path_requests_total"] for snap in s["snapshots"] if snap["metrics"]]
assert counts[0] == 0 and counts[-1] >= 500, counts
PY
