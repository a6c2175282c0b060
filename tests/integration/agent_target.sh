#!/usr/bin/env bash
# Which process gets the agent (issue 18, item 5; agent/target.cc): wrappers and shells pass the
# agent on and stay passive; the program they start is the target, and of the programs one shell
# starts at once only one serves. LEAKSCOPE_TARGET picks the target by name.
set -euo pipefail
source "${LEAKSCOPE_SOURCE:?}/tests/agent/lib.sh"
PROG=$BUILD/agent_robustness

# serves PID: true if process PID runs the agent's thread (only a target starts it).
serves() { grep -qx leakscope /proc/"$1"/task/*/comm 2>/dev/null; }
# wait_serves PID: true once PID serves (the thread starts just after the announce file is written)
wait_serves() {
  local i
  for ((i = 0; i < 200; i++)); do
    serves "$1" && return 0
    sleep 0.05
  done
  return 1
}
# the pids whose parent is $1
children() { ps -o pid= --ppid "$1" | tr -d ' '; }
# wait_children PID N: waits until PID has N children; prints them
wait_children() {
  local i kids
  for ((i = 0; i < 200; i++)); do
    kids=$(children "$1")
    if (($(wc -w <<<"$kids") >= $2)); then
      echo "$kids"
      return
    fi
    sleep 0.05
  done
  fail "$1 did not start $2 children"
}
cmdline() { curl -sf --max-time 20 "http://$ADDR/debug/pprof/cmdline" | tr '\0' ' ' | sed 's/ $//'; }

check_wrapped() {
  echo "== $*: the program serves, not the wrapper"
  start_agent wrapped -- "$@"
  got=$(cmdline)
  [[ $got == "$PROG pause" ]] || fail "$1: the server runs in \"$got\""
  stop_children
}
check_wrapped timeout 600 "$PROG" pause
check_wrapped nohup "$PROG" pause
check_wrapped env FOO=1 "$PROG" pause
check_wrapped setsid "$PROG" pause
check_wrapped sh -c 'exec "$0" pause' "$PROG"

echo "== the wrapper that stays (timeout forks): it does not serve, its child does"
start_agent timeout -- timeout 600 "$PROG" pause
kid=$(wait_children "$PID" 1)
serves "$PID" && fail "timeout itself serves"
wait_serves "$kid" || fail "timeout's child does not serve"
PIDS+=("$kid")
stop_children

echo "== bash starting two programs at once: exactly one serves"
start_agent two -- bash -c "\"\$0\" pause & \"\$0\" pause & wait" "$PROG"
read -r -a kids <<<"$(wait_children "$PID" 2 | tr '\n' ' ')"
PIDS+=("${kids[@]}")
wait_serves "${kids[0]}" || wait_serves "${kids[1]}" || fail "neither of bash's children serves"
sleep 0.5  # time for a second server, if there were one, to start
n=0
for k in "${kids[@]}"; do serves "$k" && n=$((n + 1)); done
((n == 1)) || fail "$n of bash's 2 children serve"
serves "$PID" && fail "bash serves"
[[ $(grep -c . "$TMP/two.addr") == 1 ]] || fail "announce: $(cat "$TMP/two.addr")"
grep -q "cannot listen" "$TMP/two.log" && fail "a second server tried: $(cat "$TMP/two.log")"
stop_children

echo "== bash starting two programs one after the other: the second serves once the first ended"
start_agent seq -- bash -c "\"\$0\" dlerror; \"\$0\" pause; true" "$PROG"
kid=
for ((i = 0; i < 200; i++)); do  # the second child (the first may still be running)
  for k in $(children "$PID"); do
    [[ $(tr '\0' ' ' <"/proc/$k/cmdline" 2>/dev/null) == *" pause "* ]] && kid=$k
  done
  [[ -n $kid ]] && serves "$kid" && break
  sleep 0.05
done
[[ -n $kid ]] || fail "bash did not start its second program"
PIDS+=("$kid")
serves "$kid" || fail "the second program does not serve"
for ((i = 0; i < 200; i++)); do  # the announce file names the live one once it has written it
  ADDR=$(head -n1 "$TMP/seq.addr")
  got=$(cmdline || true)
  [[ $got == "$PROG pause" ]] && break
  sleep 0.05
done
[[ $got == "$PROG pause" ]] || fail "the announce file names \"$got\""
stop_children

echo "== LEAKSCOPE_TARGET: only the named program serves"
start_agent named LEAKSCOPE_TARGET='agent_rob*' -- \
  bash -c "/bin/sleep 600 & \"\$0\" pause & wait" "$PROG"
read -r -a kids <<<"$(wait_children "$PID" 2 | tr '\n' ' ')"
PIDS+=("${kids[@]}")
for k in "${kids[@]}"; do
  exe=$(readlink "/proc/$k/exe")
  if [[ $exe == */sleep ]]; then
    serves "$k" && fail "sleep serves under LEAKSCOPE_TARGET=agent_rob*"
  else
    wait_serves "$k" || fail "$exe does not serve"
  fi
done
for k in "${kids[@]}"; do  # again, now that the target had time to start its thread
  if [[ $(readlink "/proc/$k/exe") == */sleep ]] && serves "$k"; then fail "sleep serves (late)"; fi
done
stop_children

echo "== a target's own children still run without the agent"
out=$(env LD_PRELOAD="$AGENT" timeout 60 "$PROG" exec)
[[ $out == "child LD_PRELOAD=[]" ]] || fail "through timeout, the child saw: $out"
echo PASS
