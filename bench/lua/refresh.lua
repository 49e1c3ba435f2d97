-- Rotates refresh tokens: every thread (run with one connection each) takes
-- its own session's refresh token from line <thread number> of $TOKENS_FILE
-- and always presents the newest one, so each request is a real rotation.
package.path = "bench/lua/?.lua;" .. package.path
local report = require("report")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local count = 0
function setup(thread)
  count = count + 1
  thread:set("id", count)
  report.track(thread)
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
  report.done(summary, latency)
end
