#!/usr/bin/env bash
# No false positive on a real server: memcached under a bounded loader (1,000 keys of 1 KiB,
# set + get, 4 connections, 12 s) on its own loopback port.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need memcached python3
port=$(free_port)
load="python3 $SRC/tests/detective/memcache_load.py $port 12 1000 1024 4"
rc=0
leakscope_rc run --baseline 3 --cooldown 6 --out "$WORK/out" --load "$load" \
  -- memcached -l 127.0.0.1 -p "$port" -U 0 -m 64 -t 2 -u nobody || rc=$?
expect_no_leak "$rc" "$WORK/out"
