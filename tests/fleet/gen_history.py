#!/usr/bin/env python3
"""Generates a fleet's history as OpenMetrics text for `promtool tsdb create-blocks-from
openmetrics`, and the ground truth beside it.

usage: gen_history.py OUT.om TRUTH.txt (writes OUT.om.0, OUT.om.1, ...) [--instances N] [--hours H] [--step S] [--end UNIX] [--seed N]

Every instance exports what a Go service under Prometheus does (process_resident_memory_bytes,
process_start_time_seconds, go_memstats_heap_inuse_bytes, go_goroutines, process_open_fds), a
container limit (container_spec_memory_limit_bytes) and a request counter by status code. Shapes
(TRUTH.txt has one line per instance: "INSTANCE JOB SHAPE leak|ok"):
  steady      level plus noise                                          ok
  gcwave      heap in GC waves (minutes) and RSS in slow waves (hours)  ok
  deploys     steady, restarted by deploys (start time changes)         ok
  warmcache   grows in the first hours, then flat (a cache that fills)  ok
  slowleak    heap and RSS climb all day, under GC waves                leak
  oomloop     climbs to the limit, restarts at start-up level, again    leak
  goroutines  goroutines climb (parked forever)                         leak
  cardinality a metric family keyed by raw path gains series all day    leak
"""
import math
import random
import sys

MIB = 1024 * 1024
LIMIT = 512 * MIB


def shapes_for(n):
    plan = [("slowleak", 0.06), ("oomloop", 0.06), ("goroutines", 0.04), ("cardinality", 0.04),
            ("gcwave", 0.30), ("deploys", 0.10), ("warmcache", 0.08)]
    out = []
    for name, share in plan:
        out += [name] * max(1, int(round(n * share)))
    out += ["steady"] * (n - len(out))
    return out[:n]


def main():
    args = sys.argv[1:]
    opts = {"--instances": "200", "--hours": "24", "--step": "120", "--end": None, "--seed": "7"}
    pos = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            pos.append(args[i])
            i += 1
    out_path, truth_path = pos
    import time
    n = int(opts["--instances"])
    step = int(opts["--step"])
    end = int(opts["--end"] or time.time())
    end -= end % step
    start = end - int(float(opts["--hours"]) * 3600)
    ts = list(range(start, end + 1, step))
    rnd = random.Random(int(opts["--seed"]))
    shapes = shapes_for(n)
    rnd.shuffle(shapes)

    inst = []
    for k, shape in enumerate(shapes):
        job = "api" if k % 2 == 0 else "worker"
        name = "10.1.%d.%d:8080" % (k // 250, k % 250 + 1)
        inst.append((name, job, shape))

    series = {f: [] for f in ("process_resident_memory_bytes", "go_memstats_heap_inuse_bytes",
                              "process_start_time_seconds", "go_goroutines", "process_open_fds",
                              "container_spec_memory_limit_bytes",
                              "http_requests_by_path_total")}
    for name, job, shape in inst:
        lab = 'instance="%s",job="%s"' % (name, job)
        base = rnd.uniform(120, 200) * MIB
        gor0 = rnd.randint(30, 80)
        fds0 = rnd.randint(20, 40)
        period = rnd.uniform(120, 600)  # a GC cycle, seconds
        slow = rnd.uniform(2, 5) * 3600  # a slow wave, seconds
        phase = rnd.uniform(0, 2 * math.pi)
        leak_rate = rnd.uniform(6, 16) * MIB / 3600  # slowleak: 150-400 MiB a day
        oom_rate = rnd.uniform(250, 500) * MIB / 3600  # oomloop: the limit in 40-80 minutes
        deploys = sorted(rnd.sample(ts[10:-10], 3)) if shape == "deploys" else []
        started = start - rnd.randint(600, 86400)
        seg0 = start
        rss, heap, st, gor, fds, lim = [], [], [], [], [], []
        for t in ts:
            if deploys and t >= deploys[0]:
                started, seg0 = t - rnd.randint(5, 60), t
                deploys.pop(0)
            up = t - max(seg0, started)
            h = base * 0.5
            r = base
            if shape == "gcwave":
                h *= 1 + 0.6 * ((t % period) / period)
                r *= 1 + 0.25 * math.sin(2 * math.pi * t / slow + phase)
            elif shape == "warmcache":
                fill = min(1.0, (t - start) / (3 * 3600))
                h += 120 * MIB * fill
                r += 120 * MIB * fill
            elif shape == "slowleak":
                h *= 1 + 0.3 * ((t % period) / period)
                h += leak_rate * (t - start)
                r += leak_rate * (t - start)
            elif shape == "oomloop":
                grown = oom_rate * (t - seg0)
                if r + grown >= LIMIT:  # OOM kill; the new process starts now
                    started, seg0 = t - rnd.randint(1, 20), t
                    grown = 0
                h += grown
                r += grown
            r += h * 0.2
            noise = lambda v, s: v * (1 + rnd.gauss(0, s))
            rss.append(noise(r, 0.02))
            heap.append(noise(h, 0.03))
            st.append(started)
            g = gor0 + (400 * (t - start) / 86400 if shape == "goroutines" else 0)
            gor.append(max(1, round(noise(g, 0.05))))
            fds.append(max(3, round(noise(fds0, 0.05))))
            lim.append(LIMIT)
        series["process_resident_memory_bytes"].append((lab, rss))
        series["go_memstats_heap_inuse_bytes"].append((lab, heap))
        series["process_start_time_seconds"].append((lab, st))
        series["go_goroutines"].append((lab, gor))
        series["process_open_fds"].append((lab, fds))
        series["container_spec_memory_limit_bytes"].append((lab, lim))
        paths = 3 if shape != "cardinality" else 200  # raw paths seen by the end of the day
        for p in range(paths):
            born = 0 if p < 3 else int((p - 3) / (paths - 3) * len(ts) * 0.95)
            v = [None] * born + list(range(1, len(ts) - born + 1))
            series["http_requests_by_path_total"].append(('%s,path="/item/%d"' % (lab, p), v))

    # One file per two-hour block (promtool re-reads its whole input once per block it writes,
    # so one file per block is a dozen times faster for a day): OUT.om.0, OUT.om.1, ...
    block = 7200
    chunks = sorted({t - t % block for t in ts})
    for c, lo in enumerate(chunks):
        idx = [i for i, t in enumerate(ts) if lo <= t < lo + block]
        with open("%s.%d" % (out_path, c), "w") as f:
            for fam, rows in series.items():
                kind = "counter" if fam.endswith("_total") else "gauge"
                base_name = fam[: -len("_total")] if kind == "counter" else fam
                f.write("# TYPE %s %s\n" % (base_name, kind))
                for lab, vals in rows:
                    for i in idx:
                        if vals[i] is not None:
                            f.write("%s{%s} %d %d\n" % (fam, lab, vals[i], ts[i]))
            f.write("# EOF\n")
    with open(truth_path, "w") as f:
        for name, job, shape in inst:
            leak = shape in ("slowleak", "oomloop", "goroutines", "cardinality")
            f.write("%s %s %s %s\n" % (name, job, shape, "leak" if leak else "ok"))


if __name__ == "__main__":
    main()
