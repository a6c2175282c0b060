#!/usr/bin/env bash
# What a long `leakscope watch` costs leakscope itself (BENCHMARKS.md, "A long watch"): the C++
# demo service runs idle under the agent, `leakscope watch URL --interval I` watches it for
# DURATION seconds, and leakscope's RSS (VmRSS, VmHWM) and CPU (utime + stime) are sampled every
# few seconds with the number of snapshots taken so far. Prints the peak RSS after the first
# minute and at the end, the CPU per snapshot in the first and in the last minute, and the size
# of the run directory's report.json and series files.
#
#   bench/watch_long.sh BUILD_DIR [DURATION_S] [INTERVAL_S] [KEEP_DIR]   defaults: 1800 0.1
#
# KEEP_DIR: where the run directory and the samples (samples.tsv) are left; a temporary
# directory, removed at the end, otherwise.
set -euo pipefail
BUILD=${1:?usage: watch_long.sh BUILD_DIR [DURATION_S] [INTERVAL_S] [KEEP_DIR]}
DURATION=${2:-1800}
INTERVAL=${3:-0.1}
KEEP=${4:-}
SVC=$BUILD/examples/leaky-service/leaky-service
[[ -x $SVC && -x $BUILD/leakscope && -f $BUILD/libleakscope.so ]] ||
  { echo "watch_long: build leakscope, leakscope_agent and leaky-service first" >&2; exit 1; }
if [[ -n $KEEP ]]; then WORK=$KEEP; mkdir -p "$WORK"; else WORK=$(mktemp -d); fi
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n $KEEP ]] || rm -rf "$WORK"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rm -f "$WORK/announce"
LD_PRELOAD=$BUILD/libleakscope.so LEAKSCOPE_ADDR=127.0.0.1:0 LEAKSCOPE_ANNOUNCE=$WORK/announce \
  "$SVC" --port "$port" >"$WORK/svc.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [[ -s $WORK/announce ]] && grep -q listening "$WORK/svc.log" && break; sleep 0.1; done
url=http://$(head -1 "$WORK/announce")
rm -rf "$WORK/out"
echo "watch_long: $(date -u +%FT%RZ), $(nproc) CPUs, ${DURATION} s at --interval $INTERVAL, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK" "$DURATION" "$INTERVAL" "$BUILD/leakscope" watch --duration "$DURATION" \
  --interval "$INTERVAL" --out "$WORK/out" "$url" <<'PY'
# Runs the watch and samples it until it exits (t, snapshots so far, utime+stime, VmRSS, VmHWM),
# then takes its peak RSS and CPU from wait4 (which include the final analysis).
import os, subprocess, sys, time
work, duration = sys.argv[1], float(sys.argv[2])
watch = subprocess.Popen(sys.argv[4:], stdout=open(f"{work}/watch.txt", "w"),
                         stderr=open(f"{work}/watch.err", "w"))
snaps, hz = f"{work}/out/snapshots", os.sysconf("SC_CLK_TCK")
t0 = time.monotonic()
rows = []
with open(f"{work}/samples.tsv", "w") as f:
    f.write("t_s\tsnapshots\tcpu_s\trss_kb\thwm_kb\n")
    while True:
        pid, status, usage = os.wait4(watch.pid, os.WNOHANG)
        if pid:
            break
        try:
            stat = open(f"/proc/{watch.pid}/stat").read().rsplit(")", 1)[1].split()
            status = dict(l.split(":", 1) for l in open(f"/proc/{watch.pid}/status") if ":" in l)
            n = sum(1 for e in os.scandir(snaps) if e.name.endswith(".heap.pb.gz")) \
                if os.path.isdir(snaps) else 0
            kb = lambda k: int(status[k].split()[0])
            row = (time.monotonic() - t0, n, (int(stat[11]) + int(stat[12])) / hz, kb("VmRSS"),
                   kb("VmHWM"))
        except (FileNotFoundError, ProcessLookupError, KeyError, IndexError):
            time.sleep(0.1)
            continue
        rows.append(row)
        f.write("%.1f\t%d\t%.2f\t%d\t%d\n" % row)
        f.flush()
        time.sleep(3)
t_end = time.monotonic() - t0
rc = os.waitstatus_to_exitcode(status)
def at(t):  # the last sample at or before t
    return ([rows[0]] + [r for r in rows if r[0] <= t])[-1]
def per_snapshot(a, b):
    return (b[2] - a[2]) / max(b[1] - a[1], 1) * 1000
end = rows[-1]
minute = min(60, end[0] / 2)  # a minute, or half of a shorter run
first, last = per_snapshot(rows[0], at(minute)), per_snapshot(at(end[0] - minute), end)
peak_1min, peak_end = at(minute)[4] / 1024, usage.ru_maxrss / 1024
print(f"watch exit {rc}, {end[1]} snapshots in {end[0]:.0f} s (exited after {t_end:.0f} s)")
print(f"peak RSS: {peak_1min:.1f} MiB after {minute:.0f} s, {end[4] / 1024:.1f} MiB at the last sample,"
      f" {peak_end:.1f} MiB at exit ({peak_end / peak_1min:.2f}x)")
print(f"CPU per snapshot: {first:.2f} ms in the first {minute:.0f} s, {last:.2f} ms in the last"
      f" ({last / first:.2f}x); CPU in all {usage.ru_utime + usage.ru_stime:.1f} s,"
      f" of which after the last sample {usage.ru_utime + usage.ru_stime - end[2]:.1f} s")
for name in ("report.json", "report.html", "series.json", "series.jsonl"):
    p = f"{work}/out/{name}"
    if os.path.exists(p): print(f"{name}: {os.path.getsize(p) / 1e6:.2f} MB")
PY
