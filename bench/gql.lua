-- bench/gql.lua — wrk script: POST /graphql as many users in turn (the
-- per-user checks stay on and are not what is measured), each request with
-- the next body of a file of JSON bodies (one per line: the query with its
-- variables, e.g. a different channel or post each time).
-- AGORA_BENCH_TOKENS: "id token" lines; AGORA_BENCH_BODIES: the bodies file.
local users, bodies = {}, {}
local path = "/graphql"

function init(args)
  path = args[1] or "/graphql"
  for line in io.lines(os.getenv("AGORA_BENCH_TOKENS")) do
    local id, tok = line:match("^(%S+)%s+(%S+)$")
    if id then users[#users + 1] = "Bearer " .. tok end
  end
  for line in io.lines(os.getenv("AGORA_BENCH_BODIES")) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
end

local n = 0
function request()
  n = n + 1
  return wrk.format("POST", path, {
    ["Authorization"] = users[(n % #users) + 1],
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/graphql-response+json",
  }, bodies[(n % #bodies) + 1])
end

function done(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %g %d\n", p, latency:percentile(p)))
  end
end
