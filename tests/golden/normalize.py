#!/usr/bin/env python3
"""Prints report.json in the golden test's form: keys sorted, one value per line, numbers to 6
significant digits (a slope's last bits may differ between compilers), and the fields that say
where and when it was made rather than what it found dropped (started_at)."""
import json
import sys


def norm(v):
    if isinstance(v, float):
        return float(f"{v:.6g}")
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    return v


r = json.load(open(sys.argv[1]))
r.pop("started_at", None)
print(json.dumps(norm(r), indent=1, sort_keys=True))
