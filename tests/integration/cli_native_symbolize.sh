#!/usr/bin/env bash
# The agent serves raw addresses; the CLI names them. A small C++ program with a known leak
# (tests/data/cli/leaky_native.cc, built here with -g) runs under libleakscope.so; two heap
# profiles taken before and after its leak are unsymbolized, and:
#   - `leakscope top` names the leaking function, demangled, with its file;
#   - `leakscope diff` puts leaky::Registry::remember first, not malloc;
#   - the symbolized copy (`top --write-profile`) opens in go tool pprof with the same names.
set -euo pipefail
leakscope="$LEAKSCOPE_BUILD/leakscope"
agent="$LEAKSCOPE_BUILD/libleakscope.so"
[[ -f "$agent" ]] || { echo "skip: $agent is not built"; exit 77; }
command -v curl >/dev/null || { echo "skip: curl is not installed"; exit 77; }
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT

c++ -g -O1 -o "$work/leaky_native" "$LEAKSCOPE_SOURCE/tests/data/cli/leaky_native.cc"
LD_PRELOAD="$agent" LEAKSCOPE_ADDR=127.0.0.1:0 LEAKSCOPE_ANNOUNCE="$work/addr" \
  LEAKSCOPE_RATE=1 "$work/leaky_native" "$work/go" "$work/done" &
pid=$!
for ((i = 0; i < 100; i++)); do [[ -s "$work/addr" ]] && break; sleep 0.1; done
url="http://$(cat "$work/addr")"
curl -sSf --max-time 20 -o "$work/before.pb.gz" "$url/debug/pprof/heap"
touch "$work/go"
for ((i = 0; i < 200; i++)); do [[ -s "$work/done" ]] && break; sleep 0.1; done
[[ -s "$work/done" ]] || { echo "FAIL: the program did not finish its leak"; exit 1; }
curl -sSf --max-time 20 -o "$work/after.pb.gz" "$url/debug/pprof/heap"

"$leakscope" top --json -n 0 --write-profile "$work/symbolized.pb.gz" "$work/after.pb.gz" \
  >"$work/top.json"
python3 - "$work/top.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["function"]: r for r in d["rows"]}
leak = rows.get("leaky::Registry::remember(int)")
assert leak, sorted(rows)[:40]
assert leak["file"].endswith("leaky_native.cc"), leak
assert leak["cum"] >= 200 * 65536, leak     # every allocation recorded (rate 1)
assert "main" in rows, sorted(rows)[:40]
print("ok: top: %s holds %d bytes (cum)" % ("leaky::Registry::remember(int)", leak["cum"]))
PY
"$leakscope" diff --json "$work/before.pb.gz" "$work/after.pb.gz" >"$work/diff.json"
python3 - "$work/diff.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
first = d["sites"][0]
assert first["function"] == "leaky::Registry::remember(int)", [s["function"] for s in d["sites"]][:5]
# 200 blocks of 64 KiB, plus the vector that holds them (std:: frames are cut, so its storage
# is charged to remember() too).
assert 200 * 65536 <= first["growth"] < 201 * 65536, first["growth"]
assert first["line"] > 0 and first["file"].endswith("leaky_native.cc"), first
assert "main" in [f["function"] for f in first["stack"]], first["stack"]
assert all(s["function"] != "leaky::scratch_work(int)" for s in d["sites"][:1]), d["sites"]
print("ok: diff: first site %s +%d bytes" % (first["function"], first["growth"]))
PY
if command -v go >/dev/null; then
  go tool pprof -top -nodefraction=0 -symbolize=none "$work/symbolized.pb.gz" 2>/dev/null |
    grep -q 'leaky::Registry::remember' ||
    { echo "FAIL: go tool pprof does not show our names"; exit 1; }
  echo "ok: go tool pprof reads the symbolized copy"
fi
echo "PASS"
