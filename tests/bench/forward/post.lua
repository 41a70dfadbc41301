-- wrk script for tests/bench/forward/run.sh: POSTs the bodies of a file (one a line) in turn,
-- with the headers a delivery carries.
--   wrk ... -s post.lua http://127.0.0.1:PORT/in -- BODIES_FILE
-- At the end one line "result: requests N seconds S rps R non2xx E errors F".

local bodies = {}
local next_body = 1
local sent = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open " .. tostring(args[1]))
  for line in file:lines() do
    if line ~= "" then table.insert(bodies, line) end
  end
  file:close()
  assert(#bodies > 0, "no bodies in " .. args[1])
  next_body = (id * 7919) % #bodies + 1
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  sent = sent + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = tostring(id * 100000000 + sent),
    ["X-Octohub-Signature"] = "sha256=" .. string.rep("0", 64),
    ["webhook-id"] = tostring(id * 100000000 + sent),
    ["webhook-timestamp"] = tostring(os.time()),
    ["webhook-signature"] = "v1," .. string.rep("A", 43) .. "=",
  }, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local non2xx = summary.errors.status
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("result: requests %d seconds %.3f rps %.1f non2xx %d errors %d\n",
    summary.requests, seconds, summary.requests / seconds, non2xx, errors))
end
