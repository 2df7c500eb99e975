-- wrk script: replays the request paths listed in the file $PATHS, each
-- thread starting at its own offset; $PREFIX and $SUFFIX wrap each line and
-- $TOKEN, when set, is sent as a bearer token.
local paths = {}
local prefix = os.getenv("PREFIX") or ""
local suffix = os.getenv("SUFFIX") or ""
for line in io.lines(os.getenv("PATHS")) do
  paths[#paths + 1] = prefix .. line .. suffix
end
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local counter = 0
local threads = 0

function setup(thread)
  thread:set("first", threads * 7919)
  threads = threads + 1
end

function init(args)
  counter = first or 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("BENCH requests=%d bytes=%d errors_status=%d errors_other=%d duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.bytes, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
