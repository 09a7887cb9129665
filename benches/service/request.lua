-- One kind of request, again and again: wrk runs it against a service for the load
-- benchmark (benches/service/load.py), which sets the request through the environment.
-- Counts the answers whose status is not the one expected, so that a benchmark of errors
-- is never taken for one of work.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") or "application/json"
end
local expected = tonumber(os.getenv("BENCH_EXPECT") or "200")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  unexpected = 0
  last = 0
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    last = status
  end
end

function done(summary, latency, requests)
  local total, status = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("unexpected")
    local seen = thread:get("last")
    if seen ~= 0 then status = seen end
  end
  io.write(string.format("unexpected: %d %d\n", total, status))
end
