#!/usr/bin/env bash
# `leakscope run ./prog -addr x` without `--`: the program's options are read as leakscope's and
# the command line is refused (exit 2); the message says to put `--` before the program. With
# `--`, the same command line is accepted.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
rc=0
"$LEAKSCOPE" run --out "$WORK/x" sleep -addr 127.0.0.1:1 2>"$WORK/err" >/dev/null || rc=$?
cat "$WORK/err"
[[ $rc -eq 2 ]] || { echo "FAIL: exit $rc, expected 2" >&2; exit 1; }
grep -q "^leakscope: hint: put -- before the program" "$WORK/err"
# Another usage error, with `--` present: no hint.
rc=0
"$LEAKSCOPE" run --baseline x --out "$WORK/y" -- sleep 1 2>"$WORK/err2" >/dev/null || rc=$?
[[ $rc -eq 2 ]] && ! grep -q "hint" "$WORK/err2"
echo ok
