-- bench/tokens.lua — wrk script: each request goes as one of many users, so
-- the per-user rate limit stays on (as deployed) and is not what is measured.
-- Reads "id token" lines from the file named by AGORA_BENCH_TOKENS; the path
-- may contain {id}, replaced by the user's id.
local users = {}
local path_tmpl = "/"

function init(args)
  path_tmpl = args[1] or "/"
  for line in io.lines(os.getenv("AGORA_BENCH_TOKENS")) do
    local id, tok = line:match("^(%S+)%s+(%S+)$")
    if id then users[#users + 1] = {id = id, auth = "Bearer " .. tok} end
  end
end

local n = 0
function request()
  n = n + 1
  local u = users[(n % #users) + 1]
  local p = path_tmpl:gsub("{id}", u.id)
  return wrk.format("GET", p, {Authorization = u.auth})
end

-- the percentiles wrk's --latency omits (p99.9), read by bench/benchlib.py
function done(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %g %d\n", p, latency:percentile(p)))
  end
end
