#!/usr/bin/env bash
# Dumps have a retention and a quiet failure (issue 18, item 8): LEAKSCOPE_DUMP_KEEP rounds are
# kept (older rounds of this process are removed), a directory that cannot be written is said
# once on stderr (not once per file per round), and once more when dumps work again.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_named_sites

# metric NAME: the value of an unlabelled sample of /metrics.
metric() { curl -s --max-time 10 "http://$ADDR/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }

echo "== LEAKSCOPE_DUMP_KEEP=2: five rounds on a signal leave rounds 4 and 5"
mkdir "$TMP/keep"
start_agent keep LEAKSCOPE_DUMP_DIR="$TMP/keep" LEAKSCOPE_DUMP_KEEP=2 LEAKSCOPE_DUMP_SIGNAL=USR2 \
  -- "$PROG" "$TMP/keep.ready"
wait_for_file "$TMP/keep.ready"
for round in 1 2 3 4 5; do
  kill -USR2 "$PID"
  wait_for_file "$TMP/keep/fds.$PID.000$round.pb.gz"
done
ls "$TMP/keep"
expect "heap files" "$(ls "$TMP/keep" | grep -c "^heap\.$PID\.")" 2
[[ -f $TMP/keep/heap.$PID.0004.pb.gz && -f $TMP/keep/heap.$PID.0005.pb.gz ]] || fail "wrong rounds"
expect "all files" "$(ls "$TMP/keep" | wc -l)" 8

echo "== a directory that cannot be written: one line, then one when it works again"
start_agent fail LEAKSCOPE_DUMP_DIR="$TMP/missing" LEAKSCOPE_DUMP_SIGNAL=USR2 \
  -- "$PROG" "$TMP/fail.ready"
wait_for_file "$TMP/fail.ready"
for round in 1 2 3; do
  kill -USR2 "$PID"
  for ((i = 0; i < 100; i++)); do
    (($(metric leakscope_dump_failures_total) >= 4 * round)) && break
    sleep 0.1
  done
  (($(metric leakscope_dump_failures_total) >= 4 * round)) || fail "round $round not tried"
done
expect "failure lines" "$(grep -c 'cannot write dump' "$TMP/fail.log")" 1
mkdir "$TMP/missing"
kill -USR2 "$PID"
wait_for_file "$TMP/missing/fds.$PID.0004.pb.gz"
wait_for_line "$TMP/fail.log" 'dumps are written into .* again'
kill -USR2 "$PID"
wait_for_file "$TMP/missing/fds.$PID.0005.pb.gz"
expect "failure lines" "$(grep -c 'cannot write dump' "$TMP/fail.log")" 1
expect "recovery lines" "$(grep -c 'written into .* again' "$TMP/fail.log")" 1
echo "== a refused server beside dumps: said once, never retried"
mkdir "$TMP/refused"
env LD_PRELOAD="$AGENT" LEAKSCOPE_ADDR=0.0.0.0:0 LEAKSCOPE_DUMP_DIR="$TMP/refused" \
  LEAKSCOPE_DUMP_INTERVAL=1 "$PROG" "$TMP/refused.ready" 2>"$TMP/refused.log" &
pid=$!
PIDS+=("$pid")
wait_for_file "$TMP/refused/heap.$pid.0003.pb.gz"
expect "refusal lines" "$(grep -c 'refusing to serve' "$TMP/refused.log")" 1
echo PASS
