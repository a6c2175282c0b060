#!/usr/bin/env bash
# /debug/pprof/fds counts open descriptors exactly per creation site: 4 files, 6 sockets
# connected to a loopback server, 14 pipe ends; one more file descriptor opened at the file
# site but closed by a raw syscall is noticed and dropped; one opened by a raw syscall is
# "[unknown origin]". Once the program closes them, every site is back to zero.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/trackers/lib.sh"

status=$TMP/status
start_agent leaky "$BUILD/leaky_sites" "$status"
wait_for_line "$status" '^ready'
port=$(awk '/^ready/ { print $2 }' "$status")

page=$(fetch "/debug/pprof/fds?debug=1")
unknown_before=$(unknown_count "$page")
expect "file site before" "$(site_count "$page" leak_file_site)" 0

kill -USR1 "$PID"
wait_for_line "$status" '^leaked'
page=$(fetch "/debug/pprof/fds?debug=1")
expect "file site (4 open; the 5th closed by a raw syscall)" "$(site_count "$page" leak_file_site)" 4
expect "socket site" "$(site_count "$page" leak_socket_site)" 6
expect "pipe site (7 pipes)" "$(site_count "$page" leak_pipe_site)" 14
expect "unknown origin (+1 raw openat)" "$(unknown_count "$page")" $((unknown_before + 1))

# debug=2 labels: what each descriptor is.
each=$(fetch "/debug/pprof/fds?debug=2")
expect "sockets labelled with their loopback peer" \
  "$(grep -c "^fd [0-9]*: socket family=ipv4 peer=127.0.0.1:$port" <<<"$each")" 6
expect "files labelled with their path" "$(grep -c '^fd [0-9]*: file path=/dev/null' <<<"$each" | awk '{print ($1 >= 4)}')" 1
expect "the raw descriptor is /dev/zero of unknown origin" \
  "$(grep -A1 '^fd [0-9]*: file path=/dev/zero' <<<"$each" | grep -c '\[unknown origin\]')" 1

kill -USR2 "$PID"
wait_for_line "$status" '^released'
page=$(fetch "/debug/pprof/fds?debug=1")
expect "file site after close" "$(site_count "$page" leak_file_site)" 0
expect "socket site after close" "$(site_count "$page" leak_socket_site)" 0
expect "pipe site after close" "$(site_count "$page" leak_pipe_site)" 0
expect "unknown origin after close" "$(unknown_count "$page")" "$unknown_before"
echo PASS
