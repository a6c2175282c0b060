#!/usr/bin/env bash
# Configuration that must be refused, not half-applied (issue 18, item 11): a port above 65535
# (getaddrinfo would wrap 99999 to 34463), and fault or uncatchable signals as
# LEAKSCOPE_TOGGLE_SIGNAL / LEAKSCOPE_DUMP_SIGNAL (a toggle handler on SIGSEGV returns to the
# faulting instruction: a crash became an endless loop of stderr lines). Each is refused with one
# stderr line and the default, and the host runs as it would without the agent.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_robustness

echo "== a port above 65535 is refused, not wrapped"
for addr in 127.0.0.1:99999 :65536 '[::1]:1000000'; do
  rm -f "$TMP/announce"
  err=$(env LD_PRELOAD="$AGENT" LEAKSCOPE_ADDR="$addr" LEAKSCOPE_ANNOUNCE="$TMP/announce" \
    timeout 60 "$PROG" dlerror 2>&1 >/dev/null) || fail "$addr: the host failed: $err"
  grep -q "LEAKSCOPE_ADDR=.*above 65535" <<<"$err" || fail "$addr: no refusal on stderr: $err"
  [[ ! -e $TMP/announce ]] || fail "$addr: the server announced $(cat "$TMP/announce")"
done
# 65535 itself is a port (not bound here: it may be taken); 0 still picks a free one.
start_agent zero -- "$PROG" forkhold "$TMP/zero.pid"
[[ $ADDR =~ :[0-9]+$ ]] || fail "port 0: $ADDR"
stop_children

echo "== fault and uncatchable signals are refused as toggle and dump signals"
for sig in 11 SIGSEGV BUS FPE ILL TRAP ABRT SYS 9 STOP; do
  for var in LEAKSCOPE_TOGGLE_SIGNAL LEAKSCOPE_DUMP_SIGNAL; do
    err=$(env LD_PRELOAD="$AGENT" "$var=$sig" LEAKSCOPE_DUMP_DIR="$TMP" timeout 60 "$PROG" dlerror \
      2>&1 >/dev/null) || fail "$var=$sig: the host failed: $err"
    grep -q "$var=$sig is a fault or uncatchable signal" <<<"$err" || fail "$var=$sig: $err"
  done
done

echo "== a crash under LEAKSCOPE_TOGGLE_SIGNAL=11 is still a crash"
rc=0
timeout 60 env LD_PRELOAD="$AGENT" LEAKSCOPE_TOGGLE_SIGNAL=11 "$PROG" crash >"$TMP/crash.log" 2>&1 ||
  rc=$?
((rc == 139)) || fail "status $rc (139: SIGSEGV; 124: it looped until the timeout)"
lines=$(wc -l <"$TMP/crash.log")
((lines <= 2)) || fail "$lines lines on stderr: $(head -3 "$TMP/crash.log")"

echo "== a usable signal is still taken"
err=$(env LD_PRELOAD="$AGENT" LEAKSCOPE_TOGGLE_SIGNAL=USR2 timeout 60 "$PROG" dlerror 2>&1 >/dev/null)
[[ -z $err ]] || fail "USR2: $err"
echo PASS
