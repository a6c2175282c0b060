#!/usr/bin/env bash
# No false positive on a real server: redis-server (Debian's, on jemalloc) under redis-benchmark
# with a bounded key space (-r 1000) for 12 s, on its own loopback port and temp dir.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need redis-server redis-benchmark python3
port=$(free_port)
load="timeout 12 redis-benchmark -h 127.0.0.1 -p $port -c 8 -r 1000 -d 256 -t set,get,lpush,lpop -l -q >/dev/null || true"
rc=0
leakscope_rc run --baseline 3 --cooldown 6 --out "$WORK/out" --load "$load" \
  -- redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
  || rc=$?
expect_no_leak "$rc" "$WORK/out"
