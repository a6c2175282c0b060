#!/usr/bin/env bash
# `leakscope diff --wrapper REGEX` on the recorded Go heap profiles (tests/data/cli): a function
# named as a wrapper is cut like the allocator, so its caller becomes the site; the flag repeats;
# a pattern that is no regex is a usage error (exit 2), and so is a bad `wrapper:` line in a
# suppressions file is tested in tests/unit/analysis/suppress_test.cc.
set -euo pipefail
leakscope="$LEAKSCOPE_BUILD/leakscope"
cd "$LEAKSCOPE_SOURCE/tests/data/cli"
top_site() { "$leakscope" diff --json -n 1 "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sites"][0]["function"])'; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }

plain=$(top_site go_heap_0.pb.gz go_heap_1.pb.gz)
[[ $plain == main.leakyRemember ]] || { echo "FAIL: top site $plain, expected main.leakyRemember"; exit 1; }
named=$(top_site --wrapper '^main\.leakyRemember$' go_heap_0.pb.gz go_heap_1.pb.gz)
[[ $named == main.main.func1 ]] || { echo "FAIL: with --wrapper, top site $named"; exit 1; }
twice=$(top_site --wrapper '^nothing$' --wrapper 'leakyRemember' go_heap_0.pb.gz go_heap_1.pb.gz)
[[ $twice == main.main.func1 ]] || { echo "FAIL: repeated --wrapper, top site $twice"; exit 1; }

rc=0
"$leakscope" diff --wrapper '(' go_heap_0.pb.gz go_heap_1.pb.gz >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || { echo "FAIL: a bad --wrapper regex exited $rc, expected 2"; exit 1; }
echo PASS
