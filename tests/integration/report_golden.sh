#!/usr/bin/env bash
# The golden test of the whole interpretation (heaptrack's way: recorded input, expected output):
# a short run of the C++ demo recorded once (tests/data/golden/run: series.json and the
# snapshots, symbolized and stripped of machine paths) is interpreted again by `leakscope report
# --reanalyse`, with no process started, and its report.json, normalized (tests/golden/
# normalize.py), must equal tests/data/golden/expected.json. Any change to what the snapshots
# are read as (site naming, series, thinning, the judge, the verdict, the report model) shows here.
# When the change is meant, regenerate the expected file and say in the commit what changed:
#   tests/golden/make_golden.sh --expected BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
GOLDEN=$SRC/tests/data/golden
cp -r "$GOLDEN/run" "$WORK/run"
rc=0
leakscope_rc report --reanalyse --json "$WORK/run" >"$WORK/report.json" || rc=$?
want=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["verdict"])' "$GOLDEN/expected.json")
[[ ($rc -eq 3 && $want == leak) || ($rc -eq 0 && $want != leak) ]] ||
  { echo "FAIL: exit $rc for an expected verdict of $want" >&2; exit 1; }
python3 "$SRC/tests/golden/normalize.py" "$WORK/report.json" >"$WORK/got.json"
if ! diff -u "$GOLDEN/expected.json" "$WORK/got.json" >"$WORK/diff"; then
  head -80 "$WORK/diff" >&2
  echo "FAIL: the golden run's report changed (above: expected, then got). If that is meant:" \
    "tests/golden/make_golden.sh --expected BUILD_DIR" >&2
  exit 1
fi
# The report files were written beside the snapshots, as `report DIR` does.
[[ -s $WORK/run/report.html && -s $WORK/run/report.json ]]
echo ok
