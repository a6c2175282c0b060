# Shared by tests/integration/run_*.sh and watch_*.sh: paths, free ports, cleanup, and the demo
# services' runs (demo_service, demo_load, demo_run and their checks, at the end).
# Source it after `set -euo pipefail`. Sets BUILD, SRC, LEAKSCOPE, WORK (a temp dir removed on
# exit) and kills every process registered with `track PID` on exit.
BUILD=${LEAKSCOPE_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build" && pwd)}
SRC=${LEAKSCOPE_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LEAKSCOPE=$BUILD/leakscope
PACED=$SRC/examples/load/paced-load
CHECK=$SRC/tests/detective/check_findings.py
TRUTH=$SRC/examples/ground_truth.json
WORK=$(mktemp -d)
TRACKED=()

track() { TRACKED+=("$1"); }

cleanup() {
  local pid
  for pid in "${TRACKED[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${TRACKED[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ ${KEEP_WORK:-0} == 1 ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# A free TCP port on loopback (the kernel's pick; released before use).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Skips the test (exit 77) unless every named command exists.
need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || { echo "skip: $c is not installed" >&2; exit 77; }
  done
}

# Runs leakscope and returns its exit code without tripping `set -e`.
leakscope_rc() {
  set +e
  "$LEAKSCOPE" "$@"
  local rc=$?
  set -e
  return $rc
}

# Fails unless the report's verdict is not "leak" and the run exited 0.
expect_no_leak() {
  local rc=$1 dir=$2
  if [[ $rc -ne 0 ]]; then
    echo "FAIL: leakscope exited $rc, expected 0 (no leak)" >&2
    cat "$dir/report.json" >&2 || true
    exit 1
  fi
  python3 - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] != "leak", r["summary"]
assert not [f for f in r["findings"] if f["verdict"] == "leak" and not f["suppressed"]]
print("verdict:", r["verdict"], "-", r["summary"])
PY
}

# ---- the demo services under `leakscope run` and `watch` (run_demo_*.sh, watch_*.sh) ---------
# demo_service cpp|go: needs wrk and python3, sets SVC to the built service (skips when it is not
# built) and PORT to a free port for it.
demo_service() {
  need wrk python3
  SVC=$BUILD/examples/leaky-go/bin/leaky-go
  [[ $1 == cpp ]] && SVC=$BUILD/examples/leaky-service/leaky-service
  [[ -x $SVC ]] || { echo "skip: $SVC not built" >&2; exit 77; }
  PORT=$(free_port)
}

# Every leak of examples/ground_truth.json, by endpoint name.
DEMO_LEAKS=append-slice,request-context,hanging-thread,fanout,open-file,call-backend,metrics-by-path

# The load of every pattern at once against base URL $1, each paced over about 10 s: `leaks`
# (fan-out leaks 4 KiB of heap per request: 400 requests put it clear of the noise floor at 64
# KiB; metrics-by-path ~1.2 KiB and a series per request) or `fixed` (the ?fixed=1 variants, plus
# the steady cache driven fast enough to fill in the first seconds and then churn flat).
demo_load() {
  local u=$1 variant=$2 f="?fixed=1" load
  if [[ $variant == leaks ]]; then
    load="$PACED $u/append-slice 3000 300 & $PACED $u/request-context 3000 300 &"
    load+=" $PACED $u/hanging-thread 200 20 & $PACED $u/fanout 400 40 &"
    load+=" $PACED $u/open-file 500 50 & $PACED $u/call-backend 500 50 &"
    load+=" $PACED $u/metrics-by-path 3000 300 & wait"
  else
    load="$PACED $u/append-slice$f 3000 300 4 & $PACED $u/request-context$f 1500 150 &"
    load+=" $PACED $u/hanging-thread$f 200 20 & $PACED $u/fanout$f 200 20 &"
    load+=" $PACED $u/open-file$f 300 30 & $PACED $u/call-backend$f 300 30 &"
    load+=" $PACED $u/metrics-by-path$f 500 50 & $PACED $u/steady-cache 6000 500 8 & wait"
  fi
  echo "$load"
}

# demo_run cpp|go leaks|fixed: leakscope run (3 s baseline, the load above, 6 s cooldown) on the
# C++ service under the agent, or on the Go service through its own net/http/pprof (no agent;
# a 16 KiB heap sampling rate makes the few hundred small os.File / transport objects of the
# descriptor patterns visible, set by the service's own -mem-profile-rate because Go 1.19's
# runtime overwrites GODEBUG=memprofilerate at init), with --metrics on the service's own
# /metrics. Skips unless the service is built. The run directory is $WORK/out; leakscope's exit
# code is left in DEMO_RC. Statistical (a sampled heap over a paced load): the run_demo_* tests'
# measured false-failure rate, and what makes them fail, are in tests/CMakeLists.txt.
demo_run() {
  local variant=$2 debug
  local -a svc_args run_args=()
  demo_service "$1"
  svc_args=(--port "$PORT")
  if [[ $1 == go ]]; then
    debug=$(free_port)
    svc_args=(-port "$PORT" -debug-port "$debug" -mem-profile-rate 16384)
    run_args=(--rate 16K --pprof "http://127.0.0.1:$debug")
  fi
  DEMO_RC=0
  leakscope_rc run --baseline 3 --cooldown 6 "${run_args[@]}" \
    --metrics "http://127.0.0.1:$PORT/metrics" --out "$WORK/out" \
    --load "$(demo_load "http://127.0.0.1:$PORT" "$variant")" -- "$SVC" "${svc_args[@]}" ||
    DEMO_RC=$?
}

# After demo_run SERVICE leaks: exit 3, and every leak of the demo found with its kind, its
# function (or metric family) and its pattern id (the ground truth's "pattern").
expect_demo_leaks() {
  [[ $DEMO_RC -eq 3 ]] || { echo "FAIL: exit $DEMO_RC, expected 3 (leak found)" >&2; exit 1; }
  python3 "$CHECK" "$WORK/out/report.json" "$TRUTH" "$1" --expect "$DEMO_LEAKS"
}

# After demo_run SERVICE fixed: exit 0, no leak, none of must_not_flag flagged, no leak pattern
# on any finding.
expect_demo_fixed() {
  python3 "$CHECK" "$WORK/out/report.json" "$TRUTH" "$1" --none
  expect_no_leak "$DEMO_RC" "$WORK/out"
}
