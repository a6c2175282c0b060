#!/usr/bin/env bash
# The demo backend is the service's child and never outlives it: killed with SIGKILL (no chance
# to clean up), the service takes its backend with it within 3 s (PR_SET_PDEATHSIG, and the
# backend's own parent check). Also: the backend keeps answering while hanging calls pile up
# (its single epoll loop / goroutines never block on /hang). C++ and Go.
source "${LEAKSCOPE_SOURCE:?}/tests/integration/demo_lib.bash"

check_lifetime() {
  local lang=$1 i
  load /fanout 200  # 200 calls to /hang now hang in the backend
  load /call-backend?fixed=1 200  # and /ok still answers at once
  kill -0 "$BACKEND_PID" || fail "$lang: no backend process $BACKEND_PID"
  kill -9 "$SVC_PID"
  for ((i = 0; i < 30; i++)); do
    kill -0 "$BACKEND_PID" 2>/dev/null || break
    # A zombie is gone as far as we care: it holds no port and no memory.
    [[ $(awk '{ print $3 }' "/proc/$BACKEND_PID/stat" 2>/dev/null) == Z ]] && break
    sleep 0.1
  done
  if kill -0 "$BACKEND_PID" 2>/dev/null && [[ $(awk '{ print $3 }' "/proc/$BACKEND_PID/stat") != Z ]]; then
    fail "$lang: backend $BACKEND_PID still runs 3 s after its service was killed"
  fi
  echo "$lang: backend gone with its service"
}

start_service cpp
check_lifetime cpp

require_go
start_service go
check_lifetime go
echo PASS
