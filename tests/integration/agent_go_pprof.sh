#!/usr/bin/env bash
# `go tool pprof -top BINARY http://127.0.0.1:PORT/debug/pprof/heap` on a running agent names
# the program's allocation sites (tests/agent/named_sites.cc): the served profile's addresses,
# mappings and file offsets are right for an offline symbolizer.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
command -v go >/dev/null || exit 77
PROG=$BUILD/agent_named_sites

start_agent sites -- "$PROG" "$TMP/ready"
wait_for_file "$TMP/ready"
for profile in heap allocs; do
  timeout 120 go tool pprof -top "$PROG" "http://$ADDR/debug/pprof/$profile" >"$TMP/top" 2>&1 ||
    { cat "$TMP/top"; fail "go tool pprof on /$profile"; }
  cat "$TMP/top"
  grep -Eq '[0-9.]+[kMG]?B .* leaky_cache_insert$' "$TMP/top" || fail "/$profile: no leaky_cache_insert"
  grep -Eq '[0-9.]+[kMG]?B .* session_buffer_alloc$' "$TMP/top" || fail "/$profile: no session_buffer_alloc"
done
grep -q 'Type: alloc_space' "$TMP/top" || fail "/allocs should default to alloc_space"
echo PASS
