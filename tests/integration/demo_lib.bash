# Shared by tests/integration/demo_*.sh (sourced; not a test itself): start the leaky demo
# services, drive them with wrk, and read what they hold from the outside: RSS from
# /proc/PID/status, threads from /proc/PID/task, descriptors from /proc/PID/fd, series and
# goroutines from /metrics.
#
# Why the checks do not flake: every count check compares growth against an exact expectation
# (each answered leak request leaks one thread/descriptor/series; a fixed request leaks none),
# after waiting for the count to settle (calls still in flight when wrk stops); a fixed variant
# may show a few in-flight items, far below the N of a leak. RSS checks compare a leak of
# N x 2 KiB (40 MiB at N = 20000) with a fixed variant's allocator and GC noise (<= 2 MiB for
# C++, a few MiB for Go, measured), with a margin of 3x or more on both sides.
set -euo pipefail

BUILD=${LEAKSCOPE_BUILD:?set by ctest: the build tree}
SOURCE=${LEAKSCOPE_SOURCE:?set by ctest: the source tree}
CPP_BIN=$BUILD/examples/leaky-service/leaky-service
GO_BIN=$BUILD/examples/leaky-go/bin/leaky-go
RUST_BIN=$BUILD/examples/leaky-rust/bin/leaky-rust  # built only when rustc was found
RUN_LOAD=$SOURCE/examples/load/run-load
DEMO_TMP=$(mktemp -d)
DEMO_PIDS=()

demo_cleanup() {
  local pid
  for pid in "${DEMO_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$DEMO_TMP"
}
trap demo_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

command -v wrk >/dev/null || { echo "SKIP: wrk is not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
[[ -x $CPP_BIN ]] || fail "$CPP_BIN is not built"

# require_go: skips the test when the Go twin could not be built (no Go toolchain).
require_go() {
  [[ -x $GO_BIN ]] || { echo "SKIP: $GO_BIN not built (no Go toolchain)"; exit 77; }
}

# start_service cpp|go: starts a fresh service on free ports; sets SVC_PID, SVC_URL, PPROF_URL
# (Go only) and BACKEND_PID from the announcement lines on its stdout.
start_service() {
  local lang=$1 out
  out=$(mktemp "$DEMO_TMP/$lang.XXXX")
  case $lang in
    cpp) "$CPP_BIN" --port 0 >"$out" 2>&1 & ;;
    go) "$GO_BIN" -port 0 -debug-port 0 >"$out" 2>&1 & ;;
    *) fail "start_service: unknown language $lang" ;;
  esac
  SVC_PID=$!
  disown "$SVC_PID"  # killed by pid on exit, without bash's "Killed" job notice
  DEMO_PIDS+=("$SVC_PID")
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q '^listening on ' "$out" && break
    kill -0 "$SVC_PID" 2>/dev/null || fail "$lang service died at startup: $(cat "$out")"
    sleep 0.1
  done
  local port
  port=$(sed -n 's/^listening on [0-9.]*:\([0-9][0-9]*\)$/\1/p' "$out")
  [[ -n $port ]] || fail "$lang service announced no port in 10 s: $(cat "$out")"
  SVC_URL=http://127.0.0.1:$port
  BACKEND_PID=$(sed -n 's/^backend on 127\.0\.0\.1:[0-9]* pid \([0-9][0-9]*\)$/\1/p' "$out")
  [[ -n $BACKEND_PID ]] || fail "$lang service announced no backend: $(cat "$out")"
  DEMO_PIDS+=("$BACKEND_PID")
  PPROF_URL=""
  if [[ $lang == go ]]; then
    PPROF_URL=http://127.0.0.1:$(sed -n 's/^pprof on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$out")
  fi
}

# load PATH N: N requests (count-bounded wrk, 4 connections, at most 60 s); every answer must
# be 2xx (a 5xx would mean a cap was reached or the backend failed).
load() {
  local log
  log=$(mktemp "$DEMO_TMP/wrk.XXXX")
  "$RUN_LOAD" "$SVC_URL$1" "$2" 4 60 >"$log" 2>&1 || fail "wrk on $1: $(cat "$log")"
  if grep -q 'Non-2xx' "$log"; then fail "non-2xx answers from $1: $(cat "$log")"; fi
  local sent
  sent=$(awk '/requests in/ { print $1 }' "$log")
  ((sent >= $2)) || fail "wrk sent $sent of $2 requests to $1 in 60 s: $(cat "$log")"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SVC_PID/status"; }
threads() { ls "/proc/$SVC_PID/task" | wc -l; }
fds() { ls "/proc/$SVC_PID/fd" | wc -l; }
series() { curl -sf "$SVC_URL/metrics" | grep -c "^$1{" || true; }
goroutines() { curl -sf "$SVC_URL/metrics" | awk '$1 == "go_goroutines" { print $2 }'; }

# settled CMD...: the value of CMD once two readings 200 ms apart agree (at most 5 s), so that
# calls still in flight when wrk stopped (a fan-out's threads, closing sockets) have ended.
settled() {
  local prev cur i
  prev=$("$@")
  for ((i = 0; i < 25; i++)); do
    sleep 0.2
    cur=$("$@")
    [[ $cur == "$prev" ]] && break
    prev=$cur
  done
  echo "$cur"
}

# check_fixed_then_leak PATH MEASURE N MAX_FIXED MIN_LEAK [WARMUP]: on the running service,
# warms PATH?fixed=1 up, then sends N fixed requests (MEASURE may grow by at most MAX_FIXED),
# then N leak requests (MEASURE must grow by at least MIN_LEAK). MEASURE is a command.
check_fixed_then_leak() {
  local path=$1 measure=$2 n=$3 max_fixed=$4 min_leak=$5 warmup=${6:-$3}
  local sep="?"
  [[ $path == *\?* ]] && sep="&"
  load "$path${sep}fixed=1" "$warmup"
  local before mid after
  before=$(settled $measure)
  load "$path${sep}fixed=1" "$n"
  mid=$(settled $measure)
  load "$path" "$n"
  after=$(settled $measure)
  echo "$path [$measure]: $before -> fixed x$n -> $mid -> leak x$n -> $after"
  ((mid - before <= max_fixed)) ||
    fail "$path?fixed=1 grew $measure by $((mid - before)) over $n requests (max $max_fixed)"
  ((after - mid >= min_leak)) ||
    fail "$path grew $measure by only $((after - mid)) over $n requests (min $min_leak)"
}
