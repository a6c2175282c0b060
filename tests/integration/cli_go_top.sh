#!/usr/bin/env bash
# Must show: profiles written by a real Go program (heap, allocs and goroutine from
# net/http/pprof) decode, and `leakscope top` shows the same functions and values as
# `go tool pprof -top` on the same file, for every sample type:
#   - the JSON rows (function, flat, cum, exact values in the profile's unit) against pprof's
#     table printed with -unit=B (bytes) or plain counts, all nodes (-nodefraction=0);
#   - the text table, line for line, against pprof's default units (-edgefraction=0 too: pprof
#     drops small edges before it decides the "(inline)" marks).
set -euo pipefail
source "$LEAKSCOPE_SOURCE/tests/go/profgen/profgen.sh"
profgen_session
profgen_leak_heap 30 "$work/heap.pb.gz"
profgen_fetch "debug/pprof/allocs" "$work/allocs.pb.gz"
profgen_fetch "debug/pprof/goroutine" "$work/goroutine.pb.gz"

# pprof's table -> JSON rows [function, flat, cum]. Columns: flat flat% sum% cum cum% name...
pprof_rows() {
  python3 -c '
import json, re, sys
rows, table = [], False
for line in sys.stdin:
    if re.match(r"\s+flat\s+flat%", line):
        table = True
        continue
    if not table or not line.strip():
        continue
    f = line.split()
    name = " ".join(f[5:])
    name = re.sub(r" \((partial-)?inline\)$", "", name)
    num = lambda s: int(s[:-1]) if s.endswith("B") else int(s)
    rows.append([name, num(f[0]), num(f[3])])
print(json.dumps(rows))'
}
our_rows() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["schema"] == "leakscope.top/v1", d["schema"]
print(json.dumps([[r["function"], r["flat"], r["cum"]] for r in d["rows"]]))'
}

checked=0
for profile in heap allocs goroutine; do
  file="$work/$profile.pb.gz"
  types=$(go tool pprof -raw -symbolize=none "$file" 2>/dev/null | sed -n '/^Samples:/{n;p;q}')
  for st in $types; do
    type=${st%/*} unit=${st#*/}
    pprof_unit=$([[ $unit == bytes ]] && echo B || echo count)
    ours=$("$leakscope" top --json -n 0 --sample-type "$type" "$file" | our_rows)
    theirs=$(go tool pprof -top -symbolize=none -nodefraction=0 -unit="$pprof_unit" \
      -sample_index="$type" "$file" 2>/dev/null | pprof_rows)
    if [[ "$ours" != "$theirs" ]]; then
      echo "FAIL: $profile $type: leakscope top --json differs from go tool pprof -top"
      echo "leakscope: $ours"
      echo "pprof:     $theirs"
      exit 1
    fi
    [[ "$ours" != "[]" ]] || { echo "FAIL: $profile $type: no rows"; exit 1; }
    # The text table, as printed (units chosen by the same rule).
    diff <("$leakscope" top -n 0 --sample-type "$type" "$file" | sed -n '/^Showing nodes/,$p') \
      <(go tool pprof -top -symbolize=none -nodefraction=0 -edgefraction=0 -sample_index="$type" \
        "$file" 2>/dev/null | sed -n '/^Showing nodes/,$p') ||
      { echo "FAIL: $profile $type: text table differs (above: < leakscope, > pprof)"; exit 1; }
    checked=$((checked + 1))
    echo "ok: $profile $type ($(echo "$ours" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') functions)"
  done
done
# heap and allocs have 4 sample types each, goroutine 1.
[[ $checked -eq 9 ]] || { echo "FAIL: compared $checked sample types, expected 9"; exit 1; }
# The leak is where it should be: first in the heap's default view (inuse_space).
"$leakscope" top --json -n 1 "$work/heap.pb.gz" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["sample_type"] == "inuse_space", d["sample_type"]
assert d["rows"][0]["function"] == "main.leakyRemember", d["rows"][0]'
echo "PASS"
