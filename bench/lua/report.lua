-- Shared by the wrk scripts: each thread counts failed responses in the
-- global `errors`; done() prints one RESULT line for bench/run.sh.
local report = {}
local threads = {}

function report.track(thread)
  table.insert(threads, thread)
end

function report.done(summary, latency)
  local errs = 0
  for _, t in ipairs(threads) do
    errs = errs + (t:get("errors") or 0)
  end
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests, errs + summary.errors.status))
end

return report
