#!/usr/bin/env bash
# /debug/pprof/threads counts live threads exactly per creation site: 3 from one site, 5 from
# another, 1 exited but never joined (state exited-unjoined), a detached thread that exited is
# gone; ?debug=2 shows each thread's current stack (where it is parked) and creation stack; once
# the program wakes and joins them, every site is back to zero.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/trackers/lib.sh"

status=$TMP/status
start_agent leaky "$BUILD/leaky_sites" "$status"
wait_for_line "$status" '^ready'

page=$(fetch "/debug/pprof/threads?debug=1")
expect "site a before" "$(site_count "$page" leak_thread_site_a)" 0
expect "unknown origin before (the main thread)" "$(unknown_count "$page")" 1

kill -USR1 "$PID"
wait_for_line "$status" '^leaked'
page=$(fetch "/debug/pprof/threads?debug=1")
expect "site a" "$(site_count "$page" leak_thread_site_a)" 3
expect "site b" "$(site_count "$page" leak_thread_site_b)" 5
expect "zombie site (exited-unjoined)" "$(site_count "$page" leak_thread_site_zombie exited-unjoined)" 1
expect "detached site (exited, gone)" "$(site_count "$page" leak_thread_site_detached)" 0
expect "unknown origin" "$(unknown_count "$page")" 1
grep -q '^threads profile: total 10$' <<<"$page" || fail "total: $(head -n1 <<<"$page")"

# debug=2: every parked thread of site a is in thread_body_a now (pthread_cond_wait), every
# thread of site b in thread_body_b (sem_wait); each paragraph names its creation site.
each=$(fetch "/debug/pprof/threads?debug=2")
count_paragraphs() {
  awk -v now="$1+0x" -v made="$2+0x" -v RS= 'index($0, "current stack:") && index($0, now) && index($0, made) { n++ } END { print n + 0 }' <<<"$each"
}
expect "debug=2 threads parked in thread_body_a, made at site a" "$(count_paragraphs thread_body_a leak_thread_site_a)" 3
expect "debug=2 threads parked in thread_body_b, made at site b" "$(count_paragraphs thread_body_b leak_thread_site_b)" 5
grep -q 'pthread_cond_wait' <<<"$each" || fail "debug=2 does not show pthread_cond_wait"
if grep -q 'unavailable' <<<"$each"; then
  grep -B3 unavailable <<<"$each" | head -20
  fail "a live thread's current stack was unavailable"
fi

kill -USR2 "$PID"
wait_for_line "$status" '^released'
page=$(fetch "/debug/pprof/threads?debug=1")
expect "site a after join" "$(site_count "$page" leak_thread_site_a)" 0
expect "site b after join" "$(site_count "$page" leak_thread_site_b)" 0
expect "zombie site after join" "$(site_count "$page" leak_thread_site_zombie)" 0
grep -q '^threads profile: total 1$' <<<"$page" || fail "total after: $(head -n1 <<<"$page")"
echo PASS
