-- Rotates refresh tokens: every thread (run with one connection each) takes
-- its own session's refresh token from line <thread number> of $TOKENS_FILE
-- and always presents the newest one, so each request is a real rotation.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
local count = 0
function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

function init(args)
  errors = 0
  local n = 0
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    n = n + 1
    if n == id then token = line end
  end
end

function request()
  return wrk.format(nil, nil, nil,
    '{"query":"mutation($t: String) { refresh(refreshToken: $t) { accessToken refreshToken } }",' ..
    '"variables":{"t":"' .. token .. '"}}')
end

function response(status, headers, body)
  local next_token = body:match('"refreshToken":"([^"]+)"')
  if status == 200 and next_token then
    token = next_token
  else
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local errs = 0
  for _, t in ipairs(threads) do
    errs = errs + (t:get("errors") or 0)
  end
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests, errs + summary.errors.status))
end
