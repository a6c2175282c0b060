#!/usr/bin/env bash
# /request-context keeps each request's context (a 2 KiB scratch) in a global map: RSS grows by
# >= 24 MiB over 20000 requests (43 MiB expected); /request-context?fixed=1 (erased at the end
# of the request, purged by age) grows it by <= 8 MiB after a warm-up. C++ and Go.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

start_service cpp
check_fixed_then_leak /request-context rss_kib 20000 8192 24576

require_go
start_service go
check_fixed_then_leak /request-context rss_kib 20000 8192 24576
echo PASS
