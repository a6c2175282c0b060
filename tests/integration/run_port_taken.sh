#!/usr/bin/env bash
# Someone else on the debug port: an old instance still holds it. The new process either dies
# ("address already in use": the error quotes the last lines of its output) or logs the failure
# and keeps running; either way leakscope must not profile the old instance and call it the new
# one. The socket's owner is found through /proc/net/tcp and /proc/PID/fd.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need go python3 curl
source "$SRC/tests/go/profgen/profgen.sh"
profgen_build "$WORK/go"
profgen_launch "$WORK/go"
old=$PROFGEN_PID url=$PROFGEN_URL
track "$old"
addr=${url#http://}

# 1. The new instance cannot bind and exits: its own words are quoted.
rc=0
timeout 30 "$LEAKSCOPE" run --baseline 1 --cooldown 1 --load "sleep 1" --pprof "$url" \
  --out "$WORK/dies" -- "$WORK/go/profgen" -addr "$addr" >/dev/null 2>"$WORK/dies.err" || rc=$?
cat "$WORK/dies.err"
[[ $rc -eq 1 ]] || { echo "FAIL: dies: exit $rc, expected 1" >&2; exit 1; }
grep -q "^leakscope: error: .*profgen exited with status 1" "$WORK/dies.err" ||
  grep -q "^leakscope: error: port ${addr##*:} .* is held by another process, PID $old" \
    "$WORK/dies.err" || { echo "FAIL: dies: neither the exit nor the owner said" >&2; exit 1; }
grep -q "address already in use" "$WORK/dies.err" ||
  grep -q "PID $old" "$WORK/dies.err" || { echo "FAIL: dies: no output tail" >&2; exit 1; }

# 2. The new instance logs the failure and keeps running: the old one is named as the owner.
rc=0
timeout 30 "$LEAKSCOPE" run --baseline 1 --cooldown 1 --load "sleep 1" --pprof "$url" \
  --out "$WORK/stays" -- sh -c "'$WORK/go/profgen' -addr '$addr'; sleep 60" \
  >/dev/null 2>"$WORK/stays.err" || rc=$?
cat "$WORK/stays.err"
[[ $rc -eq 1 ]] || { echo "FAIL: stays: exit $rc, expected 1" >&2; exit 1; }
grep -q "^leakscope: error: port ${addr##*:} of $url is held by another process, PID $old" \
  "$WORK/stays.err"
grep -q "address already in use" "$WORK/stays.err"  # the target's output, quoted

# 3. Its own port: the check passes (a child of the started program holds it).
port=$(free_port)
rc=0
timeout 60 "$LEAKSCOPE" run --baseline 1 --cooldown 1 --load "sleep 2" \
  --pprof "http://127.0.0.1:$port" --out "$WORK/own" \
  -- sh -c "'$WORK/go/profgen' -addr 127.0.0.1:$port; true" >/dev/null 2>"$WORK/own.err" || rc=$?
cat "$WORK/own.err"
[[ $rc -eq 0 || $rc -eq 3 ]] || { echo "FAIL: own port: exit $rc" >&2; exit 1; }
echo ok
