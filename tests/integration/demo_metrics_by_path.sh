#!/usr/bin/env bash
# /metrics-by-path labels a counter by raw path and query: every distinct URL (the load adds a
# unique id=...) is a new series in /metrics, forever (5000 requests: >= 5000 more series);
# /metrics-by-path?fixed=1 labels by route, so the number of series stays put (<= 1 more: the
# shared "other" label). C++ and Go.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

all_series() { curl -sf "$SVC_URL/metrics" | grep -vc '^#'; }

start_service cpp
check_fixed_then_leak /metrics-by-path all_series 5000 1 5000 200

require_go
start_service go
check_fixed_then_leak /metrics-by-path all_series 5000 1 5000 200
echo PASS
