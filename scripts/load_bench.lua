-- wrk script for scripts/load_bench.py. Arguments after "--":
--   mode    "fixed": every request names the same URL; "unique": a counter makes each URL new
--   target  the request-target: absolute-form "http://127.0.0.1:PORT/path" for a proxy,
--           origin-form "/path" when wrk talks to the origin directly
--   host    the Host field (the origin's host:port)
--   nonce   makes the unique URLs of one run differ from every other run's
--   close   "close" to send Connection: close, anything else for keep-alive
-- done() prints one line "WRKJSON {...}" with the counts and latency percentiles (µs).

local mode, target, nonce
local fixed
local counter = 0
local thread_index = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  mode = args[1] or "fixed"
  target = args[2] or "/"
  nonce = args[4] or "run"
  wrk.headers["Host"] = args[3] or wrk.host
  if args[5] == "close" then wrk.headers["Connection"] = "close" end
  if mode == "fixed" then fixed = wrk.format("GET", target) end
end

function request()
  if fixed then return fixed end
  counter = counter + 1
  return wrk.format("GET", string.format("%s%s-%d-%d", target, nonce, thread_index, counter))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,' ..
    '"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
