#!/usr/bin/env bash
# In leaky-service, every call that creates a leak's memory, thread or descriptor (operator new,
# malloc, pthread_create, socket, open) made from a leak function named in ground_truth.json, or
# from the steady cache's, has, by
# its DWARF inline chain, no frame of our own code but that function: no helper of ours, even
# inlined, stands between the pattern function and the allocator, so a detective that names a
# site by its innermost frame in our code prints exactly the ground-truth name (and never one
# that a leak shares with its fix or the steady cache). And each leak function makes at least
# one such call itself.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"
if ! command -v objdump >/dev/null || ! command -v addr2line >/dev/null; then
  echo "SKIP: binutils (objdump, addr2line) not installed"
  exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }

functions=$(python3 - "$SOURCE/examples/ground_truth.json" <<'PY'
import json, sys
gt = json.load(open(sys.argv[1]))
names = set()
for e in gt["endpoints"]:
    names.update(x["function"] for x in e["cpp"]["expect"] if x["function"])
    if not e["leaks"]:
        names.add(e["cpp"]["function"])
print(" ".join(sorted(names)))
PY
)
disasm=$DEMO_TMP/disasm
objdump -d --no-show-raw-insn "$CPP_BIN" >"$disasm"
creators='call +[0-9a-f]+ <(_Znwm|_Znam|_ZnwmRKSt9nothrow_t|malloc|calloc|realloc|pthread_create|socket|open|open64|openat|fopen|fopen64)@plt>'
for f in $functions; do
  calls=$(awk -v head="<$f>:" '$2 == head { on = 1; next } on && /^$/ { exit } on' "$disasm" |
    grep -E "$creators" | awk '{ sub(":", "", $1); print $1 }' || true)
  n=0
  for addr in $calls; do
    chain=$(addr2line -f -i -C -e "$CPP_BIN" "$addr" | paste - - | awk '$2 ~ /examples\// { print $1 }' | sort -u)
    [[ $chain == "$f" ]] || fail "$f: the creating call at 0x$addr has our frames: ${chain//$'\n'/ }"
    n=$((n + 1))
  done
  if [[ $f == leak_* ]] && ((n == 0)); then fail "$f makes no creating call itself"; fi
  echo "$f: $n creating calls, each with $f as our only frame"
done
echo PASS
