#!/usr/bin/env bash
# What a watch cannot see is said, never left as a silent "no leak": a URL that answers 404 on
# /debug/pprof/ is one error naming pprof; --pid for a process that does not exist is one error
# line; a process whose /proc/PID/fd cannot be read (another user's) gets the note "descriptor
# leaks invisible", and its verdict is inconclusive, never "no leak".
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need python3
port=$(free_port)
mkdir -p "$WORK/www"
(cd "$WORK/www" && exec python3 -m http.server --bind 127.0.0.1 "$port") >/dev/null 2>&1 &
track $!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

# 1. 404 on /debug/pprof/.
rc=0
timeout 20 "$LEAKSCOPE" watch --duration 2 --out "$WORK/404" "127.0.0.1:$port" 2>"$WORK/404.err" \
  >/dev/null || rc=$?
cat "$WORK/404.err"
[[ $rc -eq 1 ]] || { echo "FAIL: 404: exit $rc, expected 1" >&2; exit 1; }
grep -q "^leakscope: error: http://127.0.0.1:$port/debug/pprof/ answers HTTP 404: the service there serves no pprof" "$WORK/404.err"

# 2. --pid of no process: one line, before any snapshot.
rc=0
timeout 20 "$LEAKSCOPE" watch --duration 2 --pid 999999999 --out "$WORK/nopid" \
  "127.0.0.1:$port" 2>"$WORK/nopid.err" >/dev/null || rc=$?
cat "$WORK/nopid.err"
[[ $rc -eq 1 ]] || { echo "FAIL: --pid: exit $rc, expected 1" >&2; exit 1; }
[[ $(wc -l <"$WORK/nopid.err") -eq 1 ]] || { echo "FAIL: --pid: not one line" >&2; exit 1; }
grep -q "^leakscope: error: --pid: no process 999999999$" "$WORK/nopid.err"
rc=0
timeout 20 "$LEAKSCOPE" watch --duration 2 --pid 999999999 --out "$WORK/nopid2" \
  "127.0.0.1:$(free_port)" 2>"$WORK/nopid2.err" >/dev/null || rc=$?
[[ $rc -eq 1 && $(wc -l <"$WORK/nopid2.err") -eq 1 ]] || { cat "$WORK/nopid2.err"; exit 1; }

# 3. Another user's process: as nobody, /proc/PID/fd of a root process is unreadable.
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
  sleep 60 &
  target=$!
  track $target
  chmod o+x "$WORK"  # nobody reaches its own directory inside
  mkdir -p "$WORK/nobody" && chmod 777 "$WORK/nobody"
  rc=0
  (cd "$WORK/nobody" && timeout 20 setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$LEAKSCOPE" watch --duration 2 --interval 0.5 --out "$WORK/nobody/out" "$target") \
    >"$WORK/nobody.txt" 2>&1 || rc=$?
  cat "$WORK/nobody.txt"
  [[ $rc -eq 0 ]] || { echo "FAIL: another user's process: exit $rc" >&2; exit 1; }
  python3 - "$WORK/nobody/out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert any("descriptor leaks invisible" in n for n in r["notes"]), r["notes"]
assert r["verdict"] == "inconclusive", r["verdict"]  # not "no leak": fds were not seen
PY
else
  echo "note: not root (or no setpriv): the unreadable /proc/PID/fd case is not exercised"
fi
echo ok
