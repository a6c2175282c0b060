#!/usr/bin/env bash
# No false positive on a real server: nginx (single process, its own config, prefix and port on
# loopback) under wrk for 12 s.
set -euo pipefail
source "$(dirname "$0")/../detective/lib.sh"
need nginx wrk python3
NGINX=$(command -v nginx)
port=$(free_port)
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/tmp/body;
  proxy_temp_path $WORK/nginx/tmp/proxy;
  fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
  scgi_temp_path $WORK/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$port;
    location / { return 200 "ok\n"; }
  }
}
CONF
load="wrk -t1 -c16 -d12s http://127.0.0.1:$port/ >/dev/null"
rc=0
leakscope_rc run --baseline 3 --cooldown 6 --out "$WORK/out" --load "$load" \
  -- "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" || rc=$?
expect_no_leak "$rc" "$WORK/out"
