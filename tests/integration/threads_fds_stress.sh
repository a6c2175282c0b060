#!/usr/bin/env bash
# Every thread and descriptor hook at once from 4 threads (join, detach, pthread_exit, cancel,
# fork; open/openat/creat/fopen/freopen/fdopen/fclose, sockets, accept4, socketpair, pipes,
# dup/dup2/dup3, fcntl, eventfd, timerfd, signalfd, epoll, inotify, memfd, close_range) while the
# profiles are scraped in a loop, ?debug=2 included (which signals every thread): no crash, no
# hang, no failed call in the program, and afterwards nothing is left booked at any stress site.
# CI runs 300 rounds; LEAKSCOPE_STRESS_ROUNDS=1000 for a long run.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/trackers/lib.sh"
ROUNDS=${LEAKSCOPE_STRESS_ROUNDS:-300}

status=$TMP/status
start_agent stress "$BUILD/tracker_stress" "$status" 4 "$ROUNDS"
scrapes=0
while ! grep -Eq '^(done|errors)' "$status" 2>/dev/null; do
  kill -0 "$PID" 2>/dev/null || fail "the program died: $(tail -5 "$TMP/stress.log")"
  for path in "threads?debug=2" "fds?debug=2" threads fds "threads?debug=1"; do
    fetch "/debug/pprof/$path" >/dev/null
  done
  scrapes=$((scrapes + 1))
  ((scrapes < 3000)) || fail "no end after $scrapes scrapes"
done
grep -q '^done' "$status" || fail "calls failed in the program: $(tail -5 "$TMP/stress.log")"
echo "ok: $ROUNDS rounds, $scrapes scrape loops"

# Detached threads of the last rounds may still be on their way out: give them a moment (up to
# 20 s: beside another test on 2 cores, one was still booked after 5 s in a CI run).
for ((i = 0; i < 200; i++)); do
  threads=$(fetch "/debug/pprof/threads?debug=1")
  grep -q '^threads profile: total 1$' <<<"$threads" && break
  sleep 0.1
done
fds=$(fetch "/debug/pprof/fds?debug=1")
if ! grep -q '^threads profile: total 1$' <<<"$threads"; then
  # Say what is left, with its state and current stack, before failing on it.
  echo "--- threads left:" >&2
  fetch "/debug/pprof/threads?debug=2" >&2 || true
  ls /proc/"$PID"/task >&2 || true
fi
for site in stress_threads stress_fork; do
  expect "threads left at $site" "$(site_count "$threads" "$site")" 0
done
for site in stress_files stress_sockets stress_anon stress_close_range stress_fork; do
  expect "fds left at $site" "$(site_count "$fds" "$site")" 0
done
grep -q '^threads profile: total 1$' <<<"$threads" || fail "threads left: $threads"
kill -TERM "$PID"
wait "$PID" || fail "exit status $?"
echo PASS
