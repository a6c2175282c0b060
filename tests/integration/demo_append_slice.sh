#!/usr/bin/env bash
# /append-slice keeps a 2 KiB record per request: RSS grows by >= 24 MiB over 20000 requests
# (40 MiB expected); /append-slice?fixed=1 (a ring of 256 records) grows it by <= 8 MiB after a
# warm-up. Both the C++ service and its Go twin (whose GC headroom is part of the noise).
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

start_service cpp
check_fixed_then_leak /append-slice rss_kib 20000 8192 24576

require_go
start_service go
check_fixed_then_leak /append-slice rss_kib 20000 8192 24576
echo PASS
