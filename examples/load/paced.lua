-- A paced, count-bounded wrk load: N requests in total at about RATE requests per second, so that
-- a load phase lasts N / RATE seconds and `leakscope run` sees it over many snapshots.
--
--   wrk -t1 -c2 -d60s -s examples/load/paced.lua http://127.0.0.1:PORT/append-slice -- 5000 500 2
--
-- Arguments: N, RATE, and the -c value again (wrk does not tell scripts its connection count).
-- Use -t1 (the count and the pace are per thread). Each connection waits connections/RATE
-- seconds between its requests (wrk's delay()), unless the load is behind its schedule: wrk
-- pauses after each answer, so a connection's rate is 1 / (latency + pause), and on a busy
-- 2-core VM (10-30 ms answers, much of the CPU stolen by the host) the demo was served a third of
-- what it asked. Behind by a second's worth or more (os.time() counts whole seconds), it does not
-- pause until it has caught up; the connection count then bounds the concurrency. -d stays as the
-- bound in time. Every request gets a unique id=K query parameter; the URL's own query (e.g.
-- ?fixed=1) is kept.
local limit, rate, sent, answered, base, pause_ms, started

function init(args)
  limit = tonumber(args[1] or "5000")
  rate = tonumber(args[2] or "500")
  sent, answered = 0, 0
  local connections = tonumber(args[3] or "1")
  pause_ms = math.max(0, math.floor(1000 * connections / rate))
  local sep = wrk.path:find("?", 1, true) and "&" or "?"
  base = wrk.path .. sep .. "id="
  started = os.time()
end

function delay()
  if sent < (os.time() - started) * rate then
    return 0
  end
  return pause_ms
end

function request()
  sent = sent + 1
  -- A fresh connection per request: no keep-alive stall (Nagle against delayed ACK) in servers
  -- that leave TCP_NODELAY off, so the pace is the one asked for.
  return wrk.format(nil, base .. sent, {["Connection"] = "close"})
end

function response(status, headers, body)
  answered = answered + 1
  if answered >= limit then
    wrk.thread:stop()
  end
end
