#!/usr/bin/env bash
# A stripped program: the frames that cannot be symbolized are counted in a note that says where
# debug info is looked for (the file, beside it, /usr/lib/debug/.build-id/) and what to install,
# so "0x55d0c3a4b1c0" is not the end of the road.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need g++ strip python3
cat >"$WORK/grow.cc" <<'CC'
#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include <vector>
std::vector<void*> kept;
__attribute__((noinline)) void leak_stripped_site() {
  void* p = std::malloc(64 << 10);
  std::memset(p, 1, 64 << 10);
  kept.push_back(p);
}
int main() {
  for (int i = 0; i < 1000; ++i) {
    leak_stripped_site();
    usleep(20000);
  }
}
CC
g++ -O1 -fno-omit-frame-pointer -o "$WORK/grow" "$WORK/grow.cc"
strip --strip-all "$WORK/grow"
rc=0
timeout 60 "$LEAKSCOPE" run --baseline 1 --duration 3 --cooldown 1 --out "$WORK/out" \
  -- "$WORK/grow" >"$WORK/out.txt" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 || $rc -eq 3 ]] || { cat "$WORK/err"; echo "FAIL: exit $rc" >&2; exit 1; }
python3 - "$WORK/out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
notes = [n for n in r["notes"] if "could not be symbolized" in n]
assert notes, r["notes"]
assert "/usr/lib/debug/.build-id/" in notes[0] and "-dbgsym" in notes[0], notes[0]
print(notes[0])
PY
echo ok
