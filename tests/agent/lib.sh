# Shared by tests/integration/agent_*.sh (sourced; not a test itself): $BUILD, $AGENT, $TMP,
# cleanup of every started process on exit, and a helper to start a program under the agent.
BUILD=${LEAKSCOPE_BUILD:?set by ctest}
AGENT=$BUILD/libleakscope.so
TMP=$(mktemp -d)
export PPROF_TMPDIR=$TMP/pprof  # go tool pprof saves fetched profiles there, not in $HOME
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# wait_for_file FILE [SECONDS]: waits until FILE exists and is not empty.
wait_for_file() {
  local i
  for ((i = 0; i < ${2:-20} * 20; i++)); do
    [[ -s $1 ]] && return 0
    sleep 0.05
  done
  fail "timed out waiting for $1"
}

# start_agent NAME [ENV=VALUE...] -- CMD...: runs CMD under the agent with a debug server on a
# free loopback port; sets ADDR (host:port) and PID. Output goes to $TMP/NAME.log.
start_agent() {
  local name=$1
  shift
  local envs=()
  while [[ $1 != -- ]]; do
    envs+=("$1")
    shift
  done
  shift
  env LD_PRELOAD="$AGENT" LEAKSCOPE_ADDR=127.0.0.1:0 LEAKSCOPE_ANNOUNCE="$TMP/$name.addr" \
    "${envs[@]}" "$@" >"$TMP/$name.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  wait_for_file "$TMP/$name.addr"
  ADDR=$(head -n1 "$TMP/$name.addr")
}
