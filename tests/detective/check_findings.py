#!/usr/bin/env python3
"""Checks a leakscope report.json against examples/ground_truth.json.

  check_findings.py REPORT GROUND_TRUTH SERVICE --expect NAME[,NAME...] | --none

--expect: every listed endpoint's expectations must be met by a finding with verdict "leak"
(kind equal; function null, or equal to / a prefix-with-separator of the site's or any stack
frame's function: the ground truth's "matching" rule; and when the expectation names a
"metric", the finding's "metric" equal to it; and when it names a "pattern", the finding's
pattern.id equal to it: examples/ground_truth.json's "pattern_matching"). In every mode, no leak finding may name a
function of the service's must_not_flag list (fixed variants, the steady cache, pools) in its site
or stack, no leak finding may name an endpoint's "fixed_metric" (the bounded family of a fix), and
no finding that is not a leak may carry a leak pattern (any pattern id the ground truth names). --none: additionally, the report's verdict must not be "leak".
Prints one line per problem and exits 1 if there is any.
"""
import json
import sys


def matches(frame_fn, name):
    if frame_fn == name:
        return True
    return any(frame_fn.startswith(name + sep) for sep in (".", "::", "(", " "))


def functions_of(finding):
    fns = [finding.get("site", {}).get("function", "")]
    fns += [f.get("function", "") for f in finding.get("stack", [])]
    return [f for f in fns if f]


def pattern_id(finding):
    return (finding.get("pattern") or {}).get("id")


def meets(finding, want):
    if finding["kind"] != want["kind"]:
        return False
    if want.get("pattern") is not None and pattern_id(finding) != want["pattern"]:
        return False
    if want.get("metric") is not None and finding.get("metric") != want["metric"]:
        return False
    return want["function"] is None or any(matches(fn, want["function"])
                                           for fn in functions_of(finding))


def main():
    args = sys.argv[1:]
    report = json.load(open(args[0]))
    truth = json.load(open(args[1]))
    service = args[2]
    mode = args[3]
    problems = []
    leaks = [f for f in report["findings"] if f["verdict"] == "leak" and not f["suppressed"]]
    if mode == "--expect":
        names = args[4].split(",")
        for ep in truth["endpoints"]:
            if ep["name"] not in names:
                continue
            for want in ep[service]["expect"]:
                if not any(meets(f, want) for f in leaks):
                    what = want.get("metric") or want["function"]
                    got = sorted({str(pattern_id(f)) for f in leaks
                                  if meets(f, dict(want, pattern=None))})
                    if got and want.get("pattern"):
                        what += " with pattern %s (found with: %s)" % (want["pattern"],
                                                                       ", ".join(got))
                    problems.append("missed: %s %s %s" % (ep["name"], want["kind"], what))
    elif report["verdict"] == "leak":
        problems.append("verdict is leak: " + report["summary"])
    for f in leaks:
        for bad in truth["services"][service]["must_not_flag"]:
            if any(matches(fn, bad) for fn in functions_of(f)):
                problems.append("flagged %s: %s %s" % (bad, f["kind"], f["evidence"]))
    fixed_metrics = {ep["fixed_metric"] for ep in truth["endpoints"] if ep.get("fixed_metric")}
    for f in leaks:
        if f.get("metric") in fixed_metrics:
            problems.append("flagged the fixed metric %s: %s" % (f["metric"], f["evidence"]))
    leak_patterns = {want["pattern"] for ep in truth["endpoints"] for svc in ("cpp", "go", "rust")
                     if svc in ep for want in ep[svc]["expect"] if want.get("pattern")}
    for f in report["findings"]:
        if f["verdict"] != "leak" and pattern_id(f) in leak_patterns:
            problems.append("a %s finding got the leak pattern %s: %s %s" % (
                f["verdict"], pattern_id(f), f["kind"], f.get("site", {}).get("function")))
    for p in problems:
        print("check_findings: " + p)
    print("check_findings: %d leak findings, %d problems" % (len(leaks), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
