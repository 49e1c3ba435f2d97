-- POSTs one GraphQL request over and over: the body from $BODY, a Bearer
-- token from $TOKEN if set. Prints a RESULT line; a response that is not a
-- 200 without "errors" counts as an error, so a broken run cannot pass as fast.
package.path = "bench/lua/?.lua;" .. package.path
local report = require("report")

wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function setup(thread)
  report.track(thread)
end

function init(args)
  errors = 0
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  report.done(summary, latency)
end
