-- wrk script: sends the token header and prints p50 and p95 latency (ms) as one JSON line.
local token = os.getenv("BENCH_TOKEN")
if token then wrk.headers["Authorization"] = "Bearer " .. token end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"p50": %.2f, "p95": %.2f, "requests": %d, "errors": %d}\n',
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
