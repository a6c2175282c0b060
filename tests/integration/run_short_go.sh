#!/usr/bin/env bash
# Issue 11, item 3, and issue 17, item 2: a Go service at Go's own sampling rate. Debian's Go
# 1.19 sets MemProfileRate at init, so GODEBUG=memprofilerate (what `run --rate` passes) is
# ignored and the heap profile samples every 512 KiB. A one-shot load of 4,000 sequential
# requests, each keeping 1.5 KB in a map and a parked goroutine, at default flags: the goroutine
# leak and the map's function are both found as leaks (the rounds give the map enough growth to
# pass a 512 KiB floor), and the report states the profile's coarser period and how to lower it.
# With --rounds 1 the map may not be visible at 512 KiB: then it must not be called no-leak.
#
# Statistical (a sampled heap at 512 KiB): in each of the 3 runs here the map was found, its
# growth 49 MiB against a floor of 15 MiB (9 rounds of 0.5 s); too few runs to bound the
# false-failure rate below about 1 in 3 by count alone, but a leak 3 floors past the floor with
# Mann-Kendall p near 1e-7 is far from the rule's edges. Labelled statistical: run alone,
# retries counted by scripts/test.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need go python3
DIR=$SRC/tests/integration/short_loads
mkdir -p "$WORK/go"
cp "$DIR/gosvc.go" "$WORK/go/"
printf 'module gosvc\ngo 1.19\n' >"$WORK/go/go.mod"
(cd "$WORK/go" && GOCACHE=$WORK/gocache GOFLAGS=-mod=mod go build -o gosvc .) ||
  { echo "skip: go build failed" >&2; exit 77; }
g++ -O2 -g -o "$WORK/load" "$DIR/load.cc"

# go_run OUT [ARGS...]: leakscope run on a fresh service, its report in $WORK/OUT.
go_run() {
  local out=$1 debug
  shift
  debug=$(free_port)
  timeout 90 "$LEAKSCOPE" run --json --out "$WORK/$out" --pprof "http://127.0.0.1:$debug" "$@" \
    --load "$WORK/load \$(cat $WORK/$out.port) 4000" -- \
    "$WORK/go/gosvc" "$WORK/$out.port" "127.0.0.1:$debug" >/dev/null 2>"$WORK/$out.stderr" || true
  [[ -f $WORK/$out/report.json ]] || { echo "FAIL: no report: $(cat "$WORK/$out.stderr")"; exit 1; }
}

go_run rounds
python3 "$DIR/check.py" "$WORK/rounds/report.json" leak goroutines main.waitForever
python3 "$DIR/check.py" "$WORK/rounds/report.json" leak heap main.rememberSession
grep -q 'runtime.MemProfileRate' "$WORK/rounds/report.json" ||
  { echo "FAIL: the coarse period is not stated"; exit 1; }

go_run once --rounds 1
python3 - "$WORK/once/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sites = [f for f in r["findings"] if f["kind"] == "heap" and "rememberSession" in f["site"]["function"]]
print("  once:", r["verdict"], [(f["verdict"], f["evidence"]) for f in sites])
assert r["verdict"] == "leak", r["summary"]  # the goroutines, at least
assert not [f for f in sites if f["verdict"] == "no-leak"], "the map was called no-leak"
PY
