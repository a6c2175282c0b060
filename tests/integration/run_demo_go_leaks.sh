#!/usr/bin/env bash
# A Go service's leaks found through its own net/http/pprof and /metrics, with no agent:
# leakscope run --pprof on the Go demo (examples/leaky-go) finds every pattern of
# examples/ground_truth.json (heap and goroutine sites by function; descriptors from /proc,
# which has no stacks; the by-path metric family from /metrics).
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
demo_run go leaks
expect_demo_leaks go
python3 - "$WORK/out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["target"]["source"] == "pprof", r["target"]
assert "goroutines" in r["series"], sorted(r["series"])
m = [f for f in r["findings"] if f["kind"] == "metrics" and f["verdict"] == "leak"]
assert m[0]["unit"] == "series" and m[0]["stack"] == [] and m[0]["growth"] > 500, m
PY
