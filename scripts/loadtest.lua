-- wrk script of scripts/loadtest: POSTs real SQuAD dev questions, one JSON body per line of the file
-- named by the BODIES environment variable, in turn (each thread starts at its own offset), and stops
-- each thread after MAX_REQUESTS responses (the run is bounded in requests as well as in time).
-- At the end it prints one JSON line: requests, seconds, errors by kind, latency p50/p90/p99 in ms.

local bodies = {}
local counter = 0
local index = 0
local max_requests = tonumber(os.getenv("MAX_REQUESTS") or "0")
local path = os.getenv("URL_PATH") or "/v1/answer"
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("BODIES")) do
    if #line > 0 then table.insert(bodies, line) end
  end
  index = (id or 0) * 37
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  index = index + 1
  return wrk.format("POST", path, nil, bodies[(index % #bodies) + 1])
end

function response(status, headers, body)
  counter = counter + 1
  if max_requests > 0 and counter >= max_requests then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
