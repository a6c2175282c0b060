#!/usr/bin/env bash
# `run --pprof URL` where the service answers HTTP but serves no pprof (404 on /debug/pprof/):
# an error within a second or two that says so and how to enable pprof, not a 20 s wait and a
# report of empty cards.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need python3
port=$(free_port)
mkdir -p "$WORK/www"
rc=0
# The hang guard is below the startup timeout: before the check, this waited the full 30 s.
(cd "$WORK/www" && timeout 20 "$LEAKSCOPE" run --startup-timeout 30 --pprof "http://127.0.0.1:$port" \
  --out "$WORK/out" -- python3 -m http.server --bind 127.0.0.1 "$port") >/dev/null \
  2>"$WORK/err" || rc=$?
cat "$WORK/err"
[[ $rc -eq 1 ]] || { echo "FAIL: exit $rc, expected 1" >&2; exit 1; }
grep -q "^leakscope: error: http://127.0.0.1:$port/debug/pprof/ answers HTTP 404: the service there serves no pprof" "$WORK/err"
grep -q 'import _ "net/http/pprof"' "$WORK/err"
echo ok
