#!/usr/bin/env bash
# `go tool pprof -top` reads /debug/pprof/threads and /debug/pprof/fds: straight from the agent
# (symbolized through the agent's /debug/pprof/symbol) with the exact count at each site, and
# from a saved file, whose sample types are threads/count and fds/count.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/trackers/lib.sh"
command -v go >/dev/null || { echo "SKIP: go is not installed"; exit 77; }

status=$TMP/status
start_agent leaky "$BUILD/leaky_sites" "$status"
wait_for_line "$status" '^ready'
kill -USR1 "$PID"
wait_for_line "$status" '^leaked'

top=$(go tool pprof -top "http://$ADDR/debug/pprof/threads" 2>&1) || fail "pprof threads: $top"
echo "$top"
expect "pprof threads: leak_thread_site_a" "$(flat leak_thread_site_a "$top")" 3
expect "pprof threads: leak_thread_site_b" "$(flat leak_thread_site_b "$top")" 5
expect "pprof threads: leak_thread_site_zombie" "$(flat leak_thread_site_zombie "$top")" 1
grep -q '^Type: threads$' <<<"$top" || fail "pprof threads: no 'Type: threads'"

top=$(go tool pprof -top "http://$ADDR/debug/pprof/fds" 2>&1) || fail "pprof fds: $top"
echo "$top"
expect "pprof fds: leak_file_site" "$(flat leak_file_site "$top")" 4
expect "pprof fds: leak_socket_site" "$(flat leak_socket_site "$top")" 6
expect "pprof fds: leak_pipe_site" "$(flat leak_pipe_site "$top")" 14
grep -q '^Type: fds$' <<<"$top" || fail "pprof fds: no 'Type: fds'"

# Saved files, read without the process: the sample types and the label keys survive.
fetch /debug/pprof/threads >"$TMP/threads.pb.gz"
fetch /debug/pprof/fds >"$TMP/fds.pb.gz"
raw=$(go tool pprof -raw "$TMP/threads.pb.gz" 2>&1) || fail "pprof -raw threads: $raw"
grep -q 'threads/count' <<<"$raw" || fail "threads file: no threads/count sample type"
grep -q 'state:\[running\]' <<<"$raw" || fail "threads file: no state label"
raw=$(go tool pprof -raw "$TMP/fds.pb.gz" 2>&1) || fail "pprof -raw fds: $raw"
grep -q 'fds/count' <<<"$raw" || fail "fds file: no fds/count sample type"
grep -q 'kind:\[pipe\]' <<<"$raw" || fail "fds file: no kind label"
grep -q "peer:\[127.0.0.1:" <<<"$raw" || fail "fds file: no peer label"
echo PASS
