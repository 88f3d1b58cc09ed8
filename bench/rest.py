#!/usr/bin/python3
"""bench/rest.py — `./agora bench rest`: authenticated GET /api/v1/users/{id} and
GET /api/v1/channels?member=me through Apache → agora.fcgi, beside, in the same
run and interleaved: the same Apache serving a static file and a FastCGI
hello-world (the ceilings of the HTTP path), a Fastify + pg peer doing the same
lookups with the same HS256 JWT check on the same PostgreSQL (one process and a
2-worker cluster), and pgbench running the same SQL (the database's ceiling).
Writes bench/results/rest.json and prints one table. Goals (issues 3 and 8):
>= 0.6x (0.8x) the hello-world, >= the Fastify peer, p99 <= 10 ms at 32
connections. It reports; it never fails the suite.

Knobs: AGORA_BENCH_CONNS (default 8,32,128), AGORA_BENCH_SECONDS (3),
AGORA_BENCH_WARMUP (1), AGORA_BENCH_REPEAT (1; N: N interleaved rounds, the median run)."""
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

PORT = int(os.environ["AGORA_HTTP_PORT"])
BASE = f"http://127.0.0.1:{PORT}"
SECONDS = int(os.environ.get("AGORA_BENCH_SECONDS", "3"))
WARMUP = int(os.environ.get("AGORA_BENCH_WARMUP", "1"))
REPEAT = int(os.environ.get("AGORA_BENCH_REPEAT", "1"))
CONNS = [int(c) for c in os.environ.get("AGORA_BENCH_CONNS", "8,32,128").split(",")]
HERE = os.path.dirname(os.path.abspath(__file__))
TOKENS_LUA = os.path.join(HERE, "tokens.lua")

# the SQL agora.fcgi runs (lib/model/users.c on a cache miss, channels.c), for pgbench;
# the ':' of the time format is chr(58) here, or pgbench takes ":MI" for a variable
TS = ("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24' || chr(58) || 'MI' || chr(58) || "
      "'SS.MS\"Z\"')")
PG_USER = ("\\set id random({lo}, {hi})\n"
           "SELECT u.id, u.username, u.display_name, u.bio, u.avatar_url, " + TS.format("u.created_at") +
           " AS created_at FROM users u WHERE u.id = :id::bigint;\n")
# lib/model/channels.c, member=me: the caller's memberships in channel order
PG_CHANNELS = ("\\set uid random({tlo}, {thi})\n"
               "SELECT c.id, c.name, c.topic, c.visibility, c.owner_id, c.member_count, " +
               TS.format("c.created_at") + " AS created_at, m.role AS my_role FROM memberships m "
               "JOIN channels c ON c.id = m.channel_id "
               "WHERE m.user_id = :uid::bigint AND m.channel_id > 0 "
               "ORDER BY m.channel_id LIMIT 21;\n")


def get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def main():
    data = bl.seed()
    ids = data["token_users"]
    bl.token_file(ids)
    tok = bl.mint_token(ids[0])
    lo, hi = data["user_range"]
    pg = {"postgres": bl.pidfile("postgres")}
    agora = {"apache": bl.pidfile("apache"), "fcgi": bl.pidfile("fcgi"), "redis": bl.pidfile("redis"), **pg}
    peers = []
    try:
        peers = [bl.Peer("fastify-1p", "rest-fastify.js", PORT + 10, 1),
                 bl.Peer("fastify-2w", "rest-fastify.js", PORT + 11, 2)]
        for base in [BASE] + [p.url for p in peers]:
            for path in (f"/api/v1/users/{ids[0]}", "/api/v1/channels?member=me"):
                get(base + path, tok)   # raises unless 2xx: a broken peer is no peer
        targets = [
            ("static file", "apache", lambda c: bl.wrk(BASE + "/index.html", c, SECONDS, warmup=WARMUP,
                                                       procs={"apache": bl.pidfile("apache")})),
            ("fcgi hello-world", "hello", lambda c: bl.wrk(BASE + "/bench/hello", c, SECONDS, warmup=WARMUP,
                                                           procs={"apache": bl.pidfile("apache"),
                                                                  "hello": bl.pidfile("hello")})),
        ]
        for ep, path in (("users/{id}", "/api/v1/users/{id}"), ("channels?member=me", "/api/v1/channels?member=me")):
            targets.append((f"agora {ep}", ep, lambda c, path=path: bl.wrk(
                BASE + path, c, SECONDS, script=TOKENS_LUA, warmup=WARMUP, procs=agora)))
            for p in peers:
                targets.append((f"{p.name} {ep}", ep, lambda c, path=path, p=p: bl.wrk(
                    p.url + path, c, SECONDS, script=TOKENS_LUA, warmup=WARMUP, procs={"node": p.pids, **pg})))
        tlo, thi = int(ids[0]), int(ids[-1])
        targets.append(("pgbench users/{id} SQL", "users/{id}", lambda c: bl.pgbench(
            PG_USER.format(lo=lo, hi=hi), c, SECONDS, WARMUP, procs=pg)))
        targets.append(("pgbench channels SQL", "channels?member=me", lambda c: bl.pgbench(
            PG_CHANNELS.format(tlo=tlo, thi=thi), c, SECONDS, WARMUP, procs=pg)))
        runs = bl.rounds(targets, CONNS, REPEAT, "endpoint")
    finally:
        for p in peers:
            p.stop()
    rows = table_rows(runs)
    path = bl.save("rest", {
        "benchmark": "rest",
        "load": f"wrk -t2 -cN (N in {CONNS}), {SECONDS}s after {WARMUP}s warm-up, median of {REPEAT}; "
                f"{len(ids)} users in turn (per-user rate limit on); pgbench -M prepared -j2 -cN",
        "data": {k: v for k, v in data.items() if k != "token_users"},
        "goal": ">= 0.6x (issue 3) / 0.8x (issue 8) fcgi hello-world, >= Fastify, p99 <= 10 ms at 32 conns",
        "runs": runs, "table": rows})
    print()
    bl.table(rows, ["conns", "target", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors",
                    "srv cpu%", "pg cpu%", "x hello", "x fastify-1p", "x fastify-2w", "x pgbench"])
    print(f"results: {path}")


def table_rows(runs):
    rows = []
    for c in CONNS:
        by = {r["name"]: r for r in runs if r["connections"] == c}
        hello = by["fcgi hello-world"]["rps"]
        for r in (x for x in runs if x["connections"] == c):
            ep = r["endpoint"]
            ref = lambda n: by.get(n) and f"{r['rps'] / by[n]['rps']:.2f}"  # noqa: E731
            cpu = r["cpu_pct"]
            srv = sum(v for k, v in cpu.items() if k in ("apache", "fcgi", "hello", "node"))
            row = {"conns": c, "target": r["name"], "req/s": f"{r['rps']:.0f}",
                   "p50 ms": bl.fmt(r["p50_ms"]), "p99 ms": bl.fmt(r["p99_ms"]),
                   "p99.9 ms": bl.fmt(r.get("p999_ms")), "errors": r["non_2xx"] + r["socket_errors"],
                   "srv cpu%": f"{srv:.0f}" if not r["name"].startswith("pgbench") else "",
                   "pg cpu%": f"{cpu.get('postgres', 0):.0f}" if "postgres" in cpu else "",
                   "x hello": f"{r['rps'] / hello:.2f}"}
            if r["name"].startswith("agora"):
                row["x fastify-1p"] = ref(f"fastify-1p {ep}") or ""
                row["x fastify-2w"] = ref(f"fastify-2w {ep}") or ""
                pgb = "pgbench users/{id} SQL" if ep == "users/{id}" else "pgbench channels SQL"
                row["x pgbench"] = ref(pgb) or ""
            rows.append(row)
    return rows


if __name__ == "__main__":
    main()
