#!/usr/bin/env bash
# Progress for a CI log: when stderr is not a terminal, a plain line every few seconds (not the
# terminal's redrawn line, which a log shows as one long smear) with the phase, the time left in
# it, the figures, and the site whose live heap grew most so far.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need g++
cat >"$WORK/grow.cc" <<'CC'
#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include <vector>
std::vector<void*> kept;
__attribute__((noinline)) void leak_progress_site() {
  void* p = std::malloc(64 << 10);
  std::memset(p, 1, 64 << 10);
  kept.push_back(p);
}
int main() {
  for (int i = 0; i < 2000; ++i) {
    leak_progress_site();
    usleep(20000);
  }
}
CC
g++ -g -O1 -o "$WORK/grow" "$WORK/grow.cc"
rc=0
timeout 60 "$LEAKSCOPE" run --baseline 1 --duration 11 --cooldown 1 --out "$WORK/out" \
  -- "$WORK/grow" >/dev/null 2>"$WORK/err" || rc=$?
cat "$WORK/err"
[[ $rc -eq 0 || $rc -eq 3 ]] || { echo "FAIL: exit $rc" >&2; exit 1; }
n=$(grep -c '^leakscope: \[' "$WORK/err" || true)
[[ $n -ge 2 && $n -le 6 ]] || { echo "FAIL: $n progress lines for a 13 s run" >&2; exit 1; }
grep -q '^leakscope: \[load [0-9]* s, [0-9]* s left\] rss .*, heap ' "$WORK/err"
grep -q 'top grower: leak_progress_site() +[0-9.]* MiB' "$WORK/err"
! grep -q $'\r' "$WORK/err"  # no terminal redraws in a log
echo ok
