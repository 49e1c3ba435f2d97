-- `{ me { id email } }` spread over many sessions: each request carries the
-- next access token of $TOKENS_FILE (one per line, one session each), so
-- every session is asked about in turn. Prints a RESULT line; a response that
-- is not a 200 without "errors" counts as an error.
package.path = "bench/lua/?.lua;" .. package.path
local report = require("report")

wrk.method = "POST"
wrk.body = '{"query":"{ me { id email } }"}'
wrk.headers["Content-Type"] = "application/json"

local count = 0
function setup(thread)
  count = count + 1
  thread:set("id", count)
  report.track(thread)
end

function init(args)
  errors = 0
  tokens = {}
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  -- Threads start at different places in the list.
  next_index = ((id - 1) * 997) % #tokens
end

function request()
  next_index = next_index % #tokens + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[next_index]
  return wrk.format()
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  report.done(summary, latency)
end
