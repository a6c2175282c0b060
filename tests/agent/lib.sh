# Shared by every integration script that runs a program under the agent
# (tests/integration/agent_*.sh, threads_*.sh, fds_*.sh; sourced, not a test itself;
# tests/trackers/lib.sh is this file under the name the tracker scripts used).
# Provides: $BUILD $SRC $AGENT $TMP, the stopping of every started process on exit, and helpers to
# start a program under the agent, wait for files and lines, and read the agent's pages.
BUILD=${LEAKSCOPE_BUILD:?set by ctest}
SRC=${LEAKSCOPE_SOURCE:?set by ctest}
AGENT=$BUILD/libleakscope.so
TMP=$(mktemp -d)
export PPROF_TMPDIR=$TMP/pprof  # go tool pprof saves fetched profiles there, not in $HOME
PIDS=()                         # every process a script starts; add your own with PIDS+=("$!")

# stop_children: the one way children are stopped. SIGTERM first (programs that handle it shut
# down cleanly, e.g. leaky_sites stops its forked server), up to 5 s for all of them to go, then
# SIGKILL for what is left; each is then reaped.
stop_children() {
  local p i alive
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 0; i < 100; i++)); do
    alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.05
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}

cleanup() {
  stop_children
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# wait_for_line FILE REGEX [SECONDS]: waits until a line of FILE matches REGEX.
wait_for_line() {
  local file=$1 regex=$2 limit=${3:-20} i
  for ((i = 0; i < limit * 20; i++)); do
    if [[ -f $file ]] && grep -Eq "$regex" "$file"; then return 0; fi
    sleep 0.05
  done
  fail "timed out waiting for /$regex/ in $file"
}

# wait_for_file FILE [SECONDS]: waits until FILE exists and is not empty.
wait_for_file() {
  wait_for_line "$1" '.' "${2:-20}"
}

# start_agent NAME [--fd-limit N] [VAR=VALUE...] [--] CMD...: runs CMD under the agent with a
# debug server on a free loopback port, with the given environment (and a soft descriptor limit
# of N); sets ADDR (host:port) and PID. Output goes to $TMP/NAME.log.
start_agent() {
  local name=$1 limit=unlimited envs=()
  shift
  if [[ ${1:-} == --fd-limit ]]; then
    limit=$2
    shift 2
  fi
  while [[ $# -gt 0 && $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
    envs+=("$1")
    shift
  done
  [[ ${1:-} == -- ]] && shift
  rm -f "$TMP/$name.addr"
  (if [[ $limit != unlimited ]]; then ulimit -Sn "$limit"; fi
   exec env LD_PRELOAD="$AGENT" LEAKSCOPE_ADDR=127.0.0.1:0 LEAKSCOPE_ANNOUNCE="$TMP/$name.addr" \
     "${envs[@]}" "$@") >"$TMP/$name.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  wait_for_line "$TMP/$name.addr" ':[0-9]+$'
  ADDR=$(head -n1 "$TMP/$name.addr")
}

# agent_thread_ticks PID: user+system clock ticks so far of the process's "leakscope" thread.
agent_thread_ticks() {
  local t
  for t in /proc/$1/task/*; do
    if [[ $(cat "$t/comm" 2>/dev/null) == leakscope ]]; then
      awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat"
      return
    fi
  done
  echo 0
}

# fetch PATH: GET from the agent at $ADDR (fails the test on an HTTP error).
fetch() {
  curl -sf --max-time 20 "http://$ADDR$1" || fail "GET $1"
}

# site_count TEXT SYMBOL: the sum of the counts of the debug=1 blocks whose stack names SYMBOL
# (as "SYMBOL+0x..."), optionally only blocks with a "# state: STATE" line (3rd argument).
site_count() {
  awk -v sym="$2+0x" -v want_state="${3:-}" '
    function flush() { if (n != "" && hit && (want_state == "" || state == want_state)) total += n }
    /^[0-9]+ @ / { flush(); n = $1; hit = 0; state = "running"; next }
    /^# state: / { state = $3 }
    index($0, sym) { hit = 1 }
    END { flush(); print total + 0 }' <<<"$1"
}

# unknown_count TEXT: the count of the "[unknown origin]" block of a debug=1 page.
unknown_count() {
  awk '/^[0-9]+ @ \[unknown origin\]/ { n += $1 } END { print n + 0 }' <<<"$1"
}

# flat FUNCTION TOP_OUTPUT: the flat value `go tool pprof -top` shows for FUNCTION.
flat() { awk -v f="$1" '$NF == f { print $1 }' <<<"$2"; }

# expect NAME ACTUAL WANTED
expect() {
  [[ $2 == "$3" ]] || fail "$1: got $2, want $3"
  echo "ok: $1 = $2"
}
