-- Shared by every workload script (loaded with dofile, wrk runs from this directory).
--
-- Arguments after `--` are key=value pairs, readable as params.<key> in each thread. Every thread
-- holds one connection, so the response it gets answers the request it just made: `kind` (set by
-- request()) names it, and statuses are counted per "kind:status". At params.deadline (Unix
-- seconds) each thread stops after its current response and leaves a file in params.stopdir; the
-- benchmark interrupts wrk once every thread has, so no request is left unanswered and the rows
-- the server wrote can be compared exactly with the 2xx responses counted here.

params = {}
statuses = {}
kind = "request"
counter = 0
thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([^=]+)=(.*)$")
    if key then params[key] = value end
  end
  params.deadline = tonumber(params.deadline)
  if start then start() end
end

function read_lines(path)
  local lines = {}
  for line in io.lines(path) do table.insert(lines, line) end
  return lines
end

-- A string no other request of this run (any thread, any earlier run) has used.
function unique(prefix)
  counter = counter + 1
  return string.format("%s-%s-%d-%d", prefix, params.run, thread_id, counter)
end

function json_headers(extra)
  local headers = {["Content-Type"] = "application/json"}
  if params.key then headers["Authorization"] = "Bearer " .. params.key end
  for name, value in pairs(extra or {}) do headers[name] = value end
  return headers
end

function response(status, headers, body)
  local key = kind .. ":" .. status
  statuses[key] = (statuses[key] or 0) + 1
  if after then after(status, body) end
  if os.time() >= params.deadline then
    -- Tell the benchmark this thread is done (it interrupts wrk once all are), then stop.
    io.open(params.stopdir .. "/" .. thread_id, "w"):close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses")) do merged[key] = (merged[key] or 0) + count end
  end
  local parts = {}
  for key, count in pairs(merged) do table.insert(parts, string.format('"%s": %d', key, count)) end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, "socket_errors": %d, '
      .. '"timeouts": %d, "statuses": {%s}}\n',
    summary.requests, latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect + errors.read + errors.write, errors.timeout, table.concat(parts, ", ")))
end
