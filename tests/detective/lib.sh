# Shared by tests/integration/run_*.sh and watch_*.sh: paths, free ports, cleanup.
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
