#!/usr/bin/env bash
# Must show: `leakscope diff` on two heap dumps of a leaking Go service, taken before and after a
# bounded load, names the leaking function first. profgen's /leak keeps 64 KiB per request in
# main.leakyRemember; /work allocates as much per request and keeps nothing. With 150 of each
# the leak holds ~9.4 MiB, sampled every 64 KiB on average: it is all but certain to be seen
# (each 64 KiB allocation is sampled with probability 1 - e^-1), and nothing else retains more
# than a few hundred KiB.
set -euo pipefail
source "$LEAKSCOPE_SOURCE/tests/go/profgen/profgen.sh"
profgen_session
profgen_heap "$work/before.pb.gz"
profgen_load 150
profgen_heap "$work/after.pb.gz"

"$leakscope" diff --json "$work/before.pb.gz" "$work/after.pb.gz" >"$work/diff.json"
python3 - "$work/diff.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "leakscope.diff/v1", d["schema"]
assert d["sample_type"] == "inuse_space" and d["unit"] == "bytes", (d["sample_type"], d["unit"])
first = d["sites"][0]
assert first["function"] == "main.leakyRemember", [s["function"] for s in d["sites"]]
assert first["file"].endswith("main.go") and first["line"] > 0, first
assert first["growth"] == first["new"] - first["base"], first
assert first["growth"] > 4 * 1024 * 1024, first["growth"]
stack = [f["function"] for f in first["stack"]]
assert stack[0] == "main.leakyRemember" and "main.main.func1" in stack, stack
assert all(s["function"] != "main.transientWork" or s["growth"] < first["growth"] / 10
           for s in d["sites"]), d["sites"]
print("ok: first site %s grew by %d bytes" % (first["function"], first["growth"]))
PY
# The text report says the same thing in its first row.
"$leakscope" diff "$work/before.pb.gz" "$work/after.pb.gz" | sed -n 3p | grep -q 'main.leakyRemember' ||
  { echo "FAIL: text diff does not name main.leakyRemember first"; exit 1; }
# Goroutines the same way: 25 more parked by /park are charged to main.parkedWorker, not to
# runtime.gopark where they sleep (runtime frames are cut).
profgen_fetch "debug/pprof/goroutine" "$work/g0.pb.gz"
args=()
for ((i = 0; i < 25; i++)); do args+=(-o /dev/null "$PROFGEN_URL/park"); done
curl -sSf --max-time 30 "${args[@]}"
profgen_fetch "debug/pprof/goroutine" "$work/g1.pb.gz"
"$leakscope" diff --json "$work/g0.pb.gz" "$work/g1.pb.gz" | python3 -c '
import json, sys
d = json.load(sys.stdin)
first = d["sites"][0]
assert d["sample_type"] == "goroutine", d["sample_type"]
assert first["function"] == "main.parkedWorker" and first["growth"] == 25, first
print("ok: goroutines: %s +%d" % (first["function"], first["growth"]))'
# A profile against itself: nothing grew.
"$leakscope" diff --json "$work/after.pb.gz" "$work/after.pb.gz" | python3 -c '
import json, sys; d = json.load(sys.stdin); assert d["sites"] == [], d'
echo "PASS"
