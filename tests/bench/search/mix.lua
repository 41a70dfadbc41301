-- wrk script for tests/bench/search/run.sh: every connection's next request is the next path
-- of the mix, in turn, so the mix is the same on every run.
--   wrk ... -s mix.lua http://127.0.0.1:PORT -- PATHS_FILE
-- PATHS_FILE holds one request path (with its query string) a line. At the end one line
-- "mix: requests N seconds S rps R p50_ms A p99_ms B errors E non2xx F" for the script to read.

local paths = {}
local next_path = 1

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open " .. tostring(args[1]))
  for line in file:lines() do
    if line ~= "" then table.insert(paths, line) end
  end
  file:close()
  assert(#paths > 0, "no paths in " .. args[1])
  -- Threads start at different places of the mix so that they do not ask the same in step.
  next_path = (id * 3) % #paths + 1
end

function request()
  local path = paths[next_path]
  next_path = next_path % #paths + 1
  return wrk.format("GET", path)
end

function done(summary, latency, _)
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "mix: requests %d seconds %.2f rps %.1f p50_ms %.2f p99_ms %.2f errors %d non2xx %d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status))
end
