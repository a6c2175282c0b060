#!/usr/bin/env python3
"""Checks one report.json of tests/integration/run_short_*.sh.

  check.py REPORT no-leak                    the run's verdict is no-leak
  check.py REPORT leak KIND FUNCTION_PART    a leak finding of KIND whose site function (or
                                             metric family) contains FUNCTION_PART
Prints what it saw; exits 1 on a mismatch.
"""
import json
import sys

report = json.load(open(sys.argv[1]))
want = sys.argv[2]
findings = [f for f in report["findings"] if not f["suppressed"]]
print(f"  verdict {report['verdict']}: {report['summary']}")
for n in report.get("notes", []):
    print(f"  note: {n}")
for f in findings[:6]:
    name = f.get("metric") or f["site"].get("function") or "(process)"
    print(f"  {f['kind']} {f['verdict']} {name}: {f['evidence']}")
if want == "no-leak":
    sys.exit(0 if report["verdict"] == "no-leak" else 1)
kind, part = sys.argv[3], sys.argv[4]
ok = any(f["verdict"] == "leak" and f["kind"] == kind and
         part in (f.get("metric") or f["site"].get("function") or "") for f in findings)
sys.exit(0 if ok else 1)
