#!/usr/bin/env bash
# A stripped program: the frames that cannot be symbolized are counted in a note that says where
# debug info is looked for (the file, beside it, /usr/lib/debug/.build-id/) and what to install,
# so the frame is not the end of the road; the frame itself reads "grow+0xOFFSET", the offset
# in the file that addr2line takes on the unstripped build (not a 0x55d0c3a4b1c0 of this run).
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need g++ strip python3 addr2line
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
mkdir -p "$WORK/unstripped"  # not grow.debug beside it: the symbolizer would find that
g++ -g -O1 -fno-omit-frame-pointer -o "$WORK/unstripped/grow" "$WORK/grow.cc"
cp "$WORK/unstripped/grow" "$WORK/grow"
strip --strip-all "$WORK/grow"
rc=0
timeout 60 "$LEAKSCOPE" run --baseline 1 --duration 3 --cooldown 1 --out "$WORK/out" \
  -- "$WORK/grow" >"$WORK/out.txt" 2>"$WORK/err" || rc=$?
[[ $rc -eq 0 || $rc -eq 3 ]] || { cat "$WORK/err"; echo "FAIL: exit $rc" >&2; exit 1; }
python3 - "$WORK/out/report.json" "$WORK/unstripped/grow" <<'PY'
import json, re, subprocess, sys
r = json.load(open(sys.argv[1]))
notes = [n for n in r["notes"] if "could not be symbolized" in n]
assert notes, r["notes"]
assert "/usr/lib/debug/.build-id/" in notes[0] and "-dbgsym" in notes[0], notes[0]
print(notes[0])
names = [f["site"]["function"] for f in r["findings"]]
ours = [n for n in names if re.fullmatch(r"grow\+0x[0-9a-f]+", n)]
assert ours, names
assert not any(re.fullmatch(r"0x[0-9a-f]+", n) for n in names), names
fn = subprocess.run(["addr2line", "-f", "-e", sys.argv[2], ours[0].split("+")[1]],
                    capture_output=True, text=True, check=True).stdout.split()[0]
assert fn == "_Z18leak_stripped_sitev" or "leak_stripped_site" in fn, (ours[0], fn)
print(ours[0], "->", fn)
PY
echo ok
