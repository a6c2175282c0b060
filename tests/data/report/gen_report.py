#!/usr/bin/env python3
"""Writes synthetic leakscope.report/v1 documents (docs/report-schema.md) for the HTML report's tests
and its size/load-time benchmark. Deterministic: the same arguments give the same bytes.

  gen_report.py run   > run.json    # a `leakscope run` of the demo: baseline, load, cooldown
  gen_report.py proc  > proc.json   # a /proc-only watch: no stacks, no flame graphs, nulls
  gen_report.py watch --duration 1800 --interval 1 > watch.json
                                    # a long `watch`: one point per interval per series, a
                                    # realistic number of findings and of flame stacks

The shapes follow what the detective writes: series keyed by signal with nulls where a snapshot
missed a figure, findings sorted leaks first, flame stacks root first, site stacks leaf first.
"""
import argparse
import json
import math
import random
import sys

MiB = 1024 * 1024

MODULES = ["handler", "router", "codec", "session", "cache", "metrics", "storage", "rpc", "auth"]
VERBS = ["parse", "encode", "append", "lookup", "insert", "flush", "dispatch", "serialize", "read"]


def fn_name(rng, i):
    mod = MODULES[i % len(MODULES)]
    verb = VERBS[(i * 7 + 3) % len(VERBS)]
    if rng.random() < 0.5:
        return f"leaky::{mod}::{verb.capitalize()}Impl<std::basic_string<char>>::{verb}(int, std::span<char const>)"
    return f"{mod}_{verb}_{i}"


def frame(function, file, line):
    return {"function": function, "file": file, "line": line}


def noisy(rng, base, sigma):
    return base + rng.gauss(0.0, sigma)


def phase_of(t, phases):
    for p in phases:
        if p["start_s"] <= t <= p["end_s"]:
            return p["name"]
    return phases[-1]["name"]


def series_for(t_s, fn, rng, sigma, integer=False, miss=0.0):
    out = []
    for t in t_s:
        if miss and rng.random() < miss:
            out.append(None)
            continue
        v = max(0.0, noisy(rng, fn(t), sigma))
        out.append(int(round(v)) if integer else round(v))
    return out


def make_stack(rng, depth, leaf, leaf_file, leaf_line):
    """A leaf-first stack ending in main."""
    frames = [frame(leaf, leaf_file, leaf_line)]
    for d in range(depth - 2):
        i = rng.randrange(60)
        frames.append(frame(fn_name(rng, i), f"examples/leaky-service/{MODULES[i % len(MODULES)]}.cc",
                            rng.randrange(20, 400)))
    frames.append(frame("main", "examples/leaky-service/main.cc", 88))
    return frames


def flame_stacks(rng, count, total, depth_lo, depth_hi, roots):
    stacks = []
    weights = [rng.paretovariate(1.2) for _ in range(count)]
    scale = total / sum(weights)
    for w in weights:
        depth = rng.randrange(depth_lo, depth_hi + 1)
        stack = ["_start", "__libc_start_main", "main", rng.choice(roots)]
        for _ in range(depth - 4):
            stack.append(fn_name(rng, rng.randrange(80)))
        stack.append(rng.choice(["operator new(unsigned long)", "malloc", "calloc", "realloc"]))
        stacks.append({"stack": stack, "value": max(1, int(w * scale))})
    # Merge duplicates, as folded stacks are unique.
    merged = {}
    for s in stacks:
        key = tuple(s["stack"])
        merged[key] = merged.get(key, 0) + s["value"]
    return [{"stack": list(k), "value": v} for k, v in sorted(merged.items(), key=lambda kv: -kv[1])]


def finding(kind, verdict, site, stack, unit, t_s, values, duration, limit, confidence, evidence,
            suppressed=False, pattern=None):
    first = next((v for v in values if v is not None), 0)
    last = next((v for v in reversed(values) if v is not None), 0)
    growth = last - first
    rate = growth / duration if duration else 0.0
    forecast = None
    if limit is not None and unit == "bytes" and verdict == "leak" and rate > 0:
        forecast = round((limit - last) / rate, 1)
    return {
        "kind": kind, "verdict": verdict, "site": site, "stack": stack, "growth": growth,
        "unit": unit, "growth_per_s": round(rate, 3), "confidence": confidence,
        "evidence": evidence, "series": {"t_s": t_s, "values": values},
        "forecast_s_to_limit": forecast, "suppressed": suppressed, "pattern": pattern,
    }


def pattern(pid, cause, fix, evidence):
    return {"id": pid, "cause": cause, "fix": fix, "evidence": evidence}


def run_report(args):
    rng = random.Random(args.seed)
    interval = args.interval
    base, load, cool = 10.0, 60.0, 25.0
    duration = base + load + cool
    t_s = [round(i * interval, 3) for i in range(int(duration / interval) + 1)]
    phases = [{"name": "baseline", "start_s": 0.0, "end_s": base},
              {"name": "load", "start_s": base, "end_s": base + load},
              {"name": "cooldown", "start_s": base + load, "end_s": duration}]
    limit = 512 * MiB

    def ramp(t, per_s):  # grows during load only
        return per_s * min(max(t - base, 0.0), load)

    leak = lambda t: 6 * MiB + ramp(t, 180 * 1024)
    cache = lambda t: 2 * MiB + min(ramp(t, 400 * 1024), 4 * MiB)
    heap = lambda t: leak(t) + cache(t) + 3 * MiB
    series = {
        "t_s": t_s,
        "rss_bytes": series_for(t_s, lambda t: heap(t) * 1.35 + 9 * MiB, rng, 0.2 * MiB),
        "pss_bytes": series_for(t_s, lambda t: heap(t) * 1.3 + 7 * MiB, rng, 0.2 * MiB, miss=0.03),
        "heap_inuse_bytes": series_for(t_s, heap, rng, 0.15 * MiB),
        "mmap_bytes": series_for(t_s, lambda t: 4 * MiB + (8 * MiB if t > 30 else 0), rng, 0),
        "threads": series_for(t_s, lambda t: 6 + (4 if base <= t <= base + load else 0), rng, 0,
                              integer=True),
        "fds": series_for(t_s, lambda t: 11 + int(ramp(t, 0.5)), rng, 0, integer=True),
    }
    site_leak = frame("leak_append_slice(Request const&)", "examples/leaky-service/leaks.cc", 42)
    site_fd = frame("open_request_log(std::string const&)", "examples/leaky-service/leaks.cc", 97)
    site_cache = frame("LruCache::insert(std::string, Blob)", "examples/leaky-service/cache.cc", 61)
    stack_leak = make_stack(rng, 9, site_leak["function"], site_leak["file"], site_leak["line"])
    stack_leak.insert(0, frame("operator new(unsigned long)", "", 0))
    stack_fd = make_stack(rng, 7, site_fd["function"], site_fd["file"], site_fd["line"])
    stack_fd.insert(0, frame("openat", "", 0))
    stack_cache = make_stack(rng, 8, site_cache["function"], site_cache["file"], site_cache["line"])
    v_leak = series_for(t_s, leak, rng, 0.05 * MiB)
    v_fd = [v - 11 for v in series["fds"]]
    v_cache = series_for(t_s, cache, rng, 0.05 * MiB)
    findings = [
        finding("heap", "leak", site_leak, stack_leak, "bytes", t_s, v_leak, load, limit, 0.99,
                "grew 10.5 MiB over the 60 s load (Mann-Kendall p=3e-12, Theil-Sen 180 KiB/s); "
                "did not come back in cooldown",
                pattern=pattern("container-growth",
                                "a long-lived container (a global vector, map or slice) gets an "
                                "entry per request and nothing removes it",
                                "bound it: a ring buffer or a cache with a size limit and eviction",
                                site_leak["function"] + " grows a container: "
                                "std::vector::_M_realloc_insert")),
        finding("fds", "leak", site_fd, stack_fd, "count", t_s, v_fd, load, limit, 0.97,
                "30 descriptors opened under load and never closed (Mann-Kendall p=1e-10)",
                pattern=pattern("none", "no pattern of the catalogue matched", "",
                                "the descriptors' kind is not known")),
        finding("heap", "no-leak", site_cache, stack_cache, "bytes", t_s, v_cache, load, limit, 0.9,
                "filled to 4.0 MiB in the first 10 s of load, then flat: a bounded cache"),
        finding("threads", "no-leak", frame("ThreadPool::grow()", "examples/leaky-service/pool.cc", 30),
                [], "count", t_s, series["threads"], load, limit, 0.8,
                "4 workers started for the load and joined in cooldown"),
    ]
    flame = {"unit": "bytes",
             "growth": [{"stack": [f["function"] for f in reversed(stack_leak)], "value": v_leak[-1] - v_leak[0]},
                        {"stack": [f["function"] for f in reversed(stack_cache)], "value": 4 * MiB}],
             "final": flame_stacks(rng, 40, heap(duration), 5, 12,
                                   ["Server::serve()", "Worker::run()", "init_config()"])}
    flame["final"] += flame["growth"]
    return {
        "schema": "leakscope.report/v1", "verdict": "leak",
        "summary": "leak: leak_append_slice (leaks.cc:42) grew 10.5 MiB under load and kept it; "
                   "30 descriptors leaked at open_request_log",
        "target": {"command": ["examples/leaky-service/leaky-service", "--port", "0"], "pid": 4242,
                   "source": "agent", "url": "http://127.0.0.1:39211"},
        "started_at": "2026-11-22T03:00:00Z", "duration_s": duration, "interval_s": interval,
        "limit_bytes": limit, "limit_source": "cgroup", "phases": phases, "series": series,
        "findings": findings, "flame": flame,
        "snapshots": [{"t_s": t, "phase": phase_of(t, phases),
                       "files": {"heap": f"snapshots/{i:04d}.heap.pb.gz"}}
                      for i, t in enumerate(t_s)],
        "notes": ["sampling rate 512 KiB: byte figures are unbiased estimates"],
    }


def watch_report(args):
    rng = random.Random(args.seed)
    duration, interval = args.duration, args.interval
    n = int(duration / interval) + 1
    t_s = [round(i * interval, 3) for i in range(n)]
    limit = 2048 * MiB
    leaks = [(f"leaky::session::Store::remember(Session const&) #{k}", 1024 * (40 + 30 * k))
             for k in range(args.leaks)]

    def heap(t):
        return 180 * MiB + sum(rate * t for _, rate in leaks) + 20 * MiB * math.sin(t / 90.0)

    series = {
        "t_s": t_s,
        "rss_bytes": series_for(t_s, lambda t: heap(t) * 1.25 + 40 * MiB, rng, 2 * MiB),
        "pss_bytes": series_for(t_s, lambda t: heap(t) * 1.2 + 30 * MiB, rng, 2 * MiB, miss=0.01),
        "heap_inuse_bytes": series_for(t_s, heap, rng, 1.5 * MiB),
        "mmap_bytes": series_for(t_s, lambda t: 64 * MiB + 16 * MiB * (t // 300), rng, 0),
        "threads": series_for(t_s, lambda t: 32 + t // 120, rng, 0.4, integer=True),
        "fds": series_for(t_s, lambda t: 140 + t // 20, rng, 1.0, integer=True),
        "goroutines": series_for(t_s, lambda t: 400 + t / 6, rng, 5, integer=True),
    }
    findings = []
    for k, (name, rate) in enumerate(leaks):
        site = frame(name, f"src/session/store_{k}.cc", 120 + k)
        stack = make_stack(rng, 24, name, site["file"], site["line"])
        values = series_for(t_s, lambda t: rate * t, rng, 64 * 1024)
        findings.append(finding("heap", "leak", site, stack, "bytes", t_s, values, duration, limit,
                                0.99 - 0.01 * k, f"grew steadily for {duration:.0f} s "
                                "(Mann-Kendall p<1e-12, Theil-Sen slope)", suppressed=(k == 3)))
    for kind, unit, fn in (("threads", "count", lambda t: t // 120), ("fds", "count", lambda t: t // 20),
                           ("goroutines", "count", lambda t: t / 6)):
        site = frame(f"{kind}_spawn_site", f"src/{kind}.cc", 77)
        findings.append(finding(kind, "leak", site, make_stack(rng, 18, site["function"], site["file"], 77),
                                unit, t_s, series_for(t_s, fn, rng, 0.3, integer=True), duration,
                                limit, 0.95, f"{kind} grew without bound"))
    for k in range(args.quiet):
        site = frame(f"cache::Shard<{k}>::insert", "src/cache/shard.cc", 200 + k)
        values = series_for(t_s, lambda t: 8 * MiB * (1 - math.exp(-t / 60.0)), rng, 32 * 1024)
        findings.append(finding("heap", "no-leak", site, make_stack(rng, 16, site["function"], site["file"], 200),
                                "bytes", t_s, values, duration, limit, 0.85, "filled, then flat"))
    roots = ["Server::serve()", "Worker::run()", "Scheduler::tick()", "init_config()"]
    flame = {"unit": "bytes",
             "growth": flame_stacks(rng, args.growth_stacks, heap(duration) - heap(0), 10, 28, roots),
             "final": flame_stacks(rng, args.final_stacks, heap(duration), 10, 32, roots)}
    return {
        "schema": "leakscope.report/v1", "verdict": "leak",
        "summary": f"leak: {len(leaks)} heap sites, threads, fds and goroutines grew over {duration:.0f} s",
        "target": {"command": [], "pid": 31337, "source": "agent", "url": "http://127.0.0.1:6060"},
        "started_at": "2026-11-22T02:00:00Z", "duration_s": float(duration), "interval_s": interval,
        "limit_bytes": limit, "limit_source": "flag",
        "phases": [{"name": "watch", "start_s": 0.0, "end_s": float(duration)}],
        "series": series, "findings": findings, "flame": flame,
        "snapshots": [{"t_s": t, "phase": "watch", "files": {"heap": f"snapshots/{i:04d}.heap.pb.gz"}}
                      for i, t in enumerate(t_s)],
        "notes": [],
    }


def proc_report(args):
    """A /proc-only watch of a PID: no agent, so no stacks, no heap series, no flame graphs."""
    rng = random.Random(args.seed)
    t_s = [float(i * 5) for i in range(61)]
    return {
        "schema": "leakscope.report/v1", "verdict": "inconclusive",
        "summary": "RSS rose 3.1 MiB in 5 min with no stacks to name a site; run with the agent",
        "target": {"command": [], "pid": 777, "source": "proc", "url": None},
        "started_at": "2026-11-22T01:00:00Z", "duration_s": 300.0, "interval_s": 5.0,
        "limit_bytes": None, "limit_source": None,
        "phases": [{"name": "watch", "start_s": 0.0, "end_s": 300.0}],
        "series": {"t_s": t_s,
                   "rss_bytes": series_for(t_s, lambda t: 30 * MiB + t * 10900, rng, 0.3 * MiB, miss=0.1),
                   "threads": series_for(t_s, lambda t: 4, rng, 0, integer=True),
                   "fds": [None] * len(t_s)},
        "findings": [finding("rss", "inconclusive", {"function": "", "file": "", "line": 0}, [], "bytes",
                             t_s, [None] * len(t_s), 300.0, None, 0.4,
                             "RSS trend p=0.03 without a heap profile to confirm it")],
        "flame": {"unit": "bytes", "growth": [], "final": []},
        "snapshots": [], "notes": ["no stacks: /proc figures only"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["run", "watch", "proc"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=1800.0, help="watch only")
    ap.add_argument("--leaks", type=int, default=6, help="watch only: leaking heap sites")
    ap.add_argument("--quiet", type=int, default=6, help="watch only: steady (no-leak) sites")
    ap.add_argument("--growth-stacks", type=int, default=400, help="watch only")
    ap.add_argument("--final-stacks", type=int, default=1500, help="watch only")
    args = ap.parse_args()
    doc = {"run": run_report, "watch": watch_report, "proc": proc_report}[args.kind](args)
    json.dump(doc, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
