#!/usr/bin/env bash
# ?debug=2 does not interrupt the host's blocking calls (issue 18, item 6). A plain -O2 host has
# threads parked in nanosleep, usleep, poll, epoll_wait, select (calls that a signal ends with
# EINTR, SA_RESTART or not) and read on a pipe, each counting EINTRs. After 40 ?debug=2 pages
# every count must still be 0: a thread blocked in a system call is read from outside
# (/proc/self/task/TID/syscall and the agent's CFI unwinder), never signalled. And each page still
# shows each parked thread's current stack through the function that made the call.
# What remains by design: a thread that is *running* is still asked by the signal; it is in no
# call, so it gets no EINTR (this host has none).
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"

command -v g++ >/dev/null || { echo "SKIP: no g++"; exit 77; }
g++ -O2 -g -pthread -rdynamic -o "$TMP/blocked_calls" "$SRC/tests/agent/blocked_calls.cc"

start_agent blocked -- "$TMP/blocked_calls"
wait_for_line "$TMP/blocked.log" '^ready'

# Each parked function must appear in the "current stack:" part of some thread's paragraph.
current_stacks() {
  awk '/current stack:/ { on = 1; next } /created by:/ { on = 0 } on' <<<"$1"
}
parks=(park_nanosleep park_usleep park_poll park_epoll park_select park_read)
pages=40
for ((i = 1; i <= pages; i++)); do
  page=$(fetch "/debug/pprof/threads?debug=2")
  if ((i == 1 || i == pages)); then
    now=$(current_stacks "$page")
    for f in "${parks[@]}"; do
      grep -q "$f+0x" <<<"$now" || { echo "$page" | head -80; fail "page $i: no current stack names $f"; }
    done
    if grep -q 'unavailable\|partial' <<<"$page"; then
      grep -B4 'unavailable\|partial' <<<"$page" | head -30
      fail "page $i: a thread's current stack is unavailable or partial"
    fi
  fi
done
echo "ok: $pages pages name every parked function"

kill -USR1 "$PID"
wait_for_line "$TMP/blocked.log" '^eintr '
line=$(grep '^eintr ' "$TMP/blocked.log" | tail -n1)
echo "counts after $pages pages: $line"
expect "EINTRs the host got from $pages ?debug=2 pages" "$(awk '{ print $2 }' <<<"$line")" 0
echo PASS
