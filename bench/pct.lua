-- bench/pct.lua — wrk script for plain GETs: only prints the percentiles
-- wrk's --latency omits (p99.9), as "PCT <pct> <microseconds>" lines that
-- bench/benchlib.py reads. tokens.lua and gql.lua print the same lines.
function done(summary, latency, requests)
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %g %d\n", p, latency:percentile(p)))
  end
end
