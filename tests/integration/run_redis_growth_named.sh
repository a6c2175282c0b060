#!/usr/bin/env bash
# A real growth in a real server, named by the server's own function: Debian's redis-server (on
# jemalloc, every heap allocation through zmalloc/zmalloc_usable/zcalloc) fed SETs of unique keys
# with no TTL (-r 100000000, 200,000 requests, at most 20 s) on its own loopback port. The keys
# and values stay, so the heap grows for real. The top growing heap site must be redis's code
# that creates them (dictAddRaw, createEmbeddedStringObject, sdsnewlen's callers...), never an
# allocator wrapper; `leakscope diff` of the first and last heap snapshots must name the same
# top site (one site rule). The assertion is on the top growing heap candidate, whatever the
# judge's verdict (leak, or inconclusive while a short load gives it few snapshots), but a real
# growth must not be called no-leak.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need redis-server redis-benchmark python3
port=$(free_port)
load="timeout 20 redis-benchmark -h 127.0.0.1 -p $port -c 8 -r 100000000 -n 200000 -t set -q >/dev/null || true"
rc=0
leakscope_rc run --baseline 2 --cooldown 3 --out "$WORK/out" --json --load "$load" \
  -- redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
  >"$WORK/report.json" || rc=$?
[[ $rc -eq 0 || $rc -eq 3 ]] || { echo "FAIL: leakscope exited $rc" >&2; exit 1; }
snaps=("$WORK"/out/snapshots/*.heap.pb.gz)
"$LEAKSCOPE" diff --json -n 1 "${snaps[0]}" "${snaps[-1]}" >"$WORK/diff.json"
python3 - "$WORK/report.json" "$WORK/diff.json" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
wrapper = re.compile(r"^(z\w*(malloc|calloc|realloc)\w*|je_\w+|malloc\w*|calloc|realloc|0x)")
creators = {"dictAddRaw", "createEmbeddedStringObject", "createStringObject", "createObject",
            "createRawStringObject", "_sdsnewlen", "sdsnewlen", "sdsdup", "dbAdd", "setKey",
            "_dictExpand", "dictExpand", "processMultibulkBuffer", "setGenericCommand"}
heap = [f for f in r["findings"] if f["kind"] == "heap" and f["verdict"] != "no-leak"]
print("verdict:", r["verdict"], "-", r["summary"])
for n in r["notes"]:
    print("note:", n)
assert heap, "no growing heap site (a real growth judged no-leak?)"
top = max(heap, key=lambda f: f["growth"])
site = top["site"]["function"]
print("top heap site:", site, top["verdict"], int(top["growth"]), "bytes")
assert not wrapper.match(site), "named an allocator wrapper: " + site
assert site in creators, "not redis's creating function: " + site
dsite = d["sites"][0]["function"]
print("diff top site:", dsite)
assert dsite in creators and not wrapper.match(dsite), dsite
PY
echo PASS
