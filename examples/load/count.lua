-- A count-bounded wrk load for the leaky demo services.
--
--   wrk -t1 -c4 -d60s -s examples/load/count.lua http://127.0.0.1:PORT/append-slice -- 5000
--
-- Each wrk thread sends about N requests (the trailing argument; 1000 by default), then stops;
-- with -t1, N is the total. -d stays as the bound in time. Every request gets a unique query
-- parameter id=T-K (thread, count), so /metrics-by-path sees a new URL each time; the URL's own
-- query (e.g. ?fixed=1) is kept. A thread stops after its N-th response, so up to one request
-- per connection more may have been sent: the service sees between N and N + connections - 1.
-- wrk's main thread would then sleep until -d ends, so the thread sends that thread a SIGINT
-- (wrk's own "stop now": it prints its summary and exits) with tgkill through LuaJIT's ffi. With
-- several threads the first to finish ends the run, so use -t1 for an exact count.
local ffi = require("ffi")
ffi.cdef([[
  int getpid(void);
  long syscall(long number, ...);
]])
local SYS_tgkill, SIGINT = 234, 2 -- x86_64

local function stop_wrk()
  local pid = ffi.C.getpid()
  ffi.C.syscall(SYS_tgkill, ffi.cast("long", pid), ffi.cast("long", pid), ffi.cast("long", SIGINT))
end
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

local limit, sent, answered, base

function init(args)
  limit = tonumber(args[1] or "1000")
  sent, answered = 0, 0
  local sep = wrk.path:find("?", 1, true) and "&" or "?"
  base = wrk.path .. sep .. "id=" .. wrk.thread:get("tid") .. "-"
end

function request()
  sent = sent + 1
  return wrk.format(nil, base .. sent)
end

function response(status, headers, body)
  answered = answered + 1
  if answered == limit then
    wrk.thread:stop()
    stop_wrk()
  end
end
