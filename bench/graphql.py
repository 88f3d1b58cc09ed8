#!/usr/bin/python3
"""bench/graphql.py — `./agora bench graphql`: POST /graphql through Apache →
agora.fcgi for channelPosts(first: 20) with authors and post(id), beside, in
the same run and interleaved: the REST user lookup of the same stack, two Node
GraphQL servers on the same schema (Agora's own SDL), the same JWT check and
the same rows of the same PostgreSQL (graphql-js + graphql-http, one process
and a 2-worker cluster; Mercurius + graphql-jit), pgbench on each query's own
SQL, and the engine micro-benchmark (parse + validate + execute from memory).
Writes bench/results/graphql.json and prints one table.

Goals (issues 4 and 8): the engine adds < 20 us per typical query; channelPosts
>= 0.8x the REST lookup, >= 0.7x the pgbench ceiling of its SQL, >= 2.5x
Mercurius. It reports; it never fails the suite.

Knobs: AGORA_BENCH_GQL_CONNS (default 32), AGORA_BENCH_SECONDS (3),
AGORA_BENCH_WARMUP (1), AGORA_BENCH_GQL_REPEAT (3 interleaved rounds, the median run)."""
import json
import os
import random
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

PORT = int(os.environ["AGORA_HTTP_PORT"])
BASE = f"http://127.0.0.1:{PORT}"
SECONDS = int(os.environ.get("AGORA_BENCH_SECONDS", "3"))
WARMUP = int(os.environ.get("AGORA_BENCH_WARMUP", "1"))
REPEAT = int(os.environ.get("AGORA_BENCH_GQL_REPEAT", "3"))
CONNS = [int(c) for c in os.environ.get("AGORA_BENCH_GQL_CONNS", "32").split(",")]
HERE = os.path.dirname(os.path.abspath(__file__))
VAR = os.environ["AGORA_VAR"]

Q_PAGE = ("query Page($c: ID!) { channelPosts(channelId: $c, first: 20) { "
          "edges { node { id body createdAt author { id username } } } } }")
Q_POST = "query Post($id: ID!) { post(id: $id) { id body createdAt author { id username } } }"

# lib/content/content_pg.c, what agora.fcgi runs per request (PostgreSQL backend):
# channelPosts reads the channel's access, the first page (first + 1 rows) and the
# authors in one statement; post(id) the post, its channel's access and its author.
# pgbench runs them with the same generic plans (-M prepared, constant LIMIT).
MS = "(extract(epoch FROM {0}) * 1000)::bigint"
POST_AS_COLS = ("p.id, p.channel_id, p.author_id, p.doc->>'body', " + MS.format("p.created_at") + ", "
                + MS.format("p.edited_at") + ", p.comment_count, u.username, u.display_name")
PG_PAGE = ("\\set c random({clo}, {chi})\n\\set u random({ulo}, {uhi})\n"
           "SELECT c.visibility = 'public', m.role, p.* FROM channels c "
           "LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = :u "
           f"LEFT JOIN LATERAL (SELECT {POST_AS_COLS}, p.created_at AS ts_ FROM posts p "
           "LEFT JOIN users u ON u.id = p.author_id "
           "WHERE p.channel_id = c.id AND (c.visibility = 'public' OR m.role IS NOT NULL) "
           "ORDER BY p.created_at DESC, p.id DESC LIMIT 21) p ON true "
           "WHERE c.id = :c ORDER BY p.ts_ DESC, p.id DESC;\n")
PG_POST = ("\\set n random(1, {posts})\n\\set u random({ulo}, {uhi})\n"
           f"SELECT {POST_AS_COLS}, ch.id IS NOT NULL, ch.visibility = 'public', m.role "
           "FROM posts p LEFT JOIN users u ON u.id = p.author_id "
           "LEFT JOIN channels ch ON ch.id = p.channel_id "
           "LEFT JOIN memberships m ON m.channel_id = ch.id AND m.user_id = :u "
           "WHERE p.id = lpad(to_hex(:n::bigint), 24, '0');\n")


def post_json(url, body, token):
    req = urllib.request.Request(url, json.dumps(body).encode(), {
        "Authorization": "Bearer " + token, "Content-Type": "application/json",
        "Accept": "application/graphql-response+json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def bodies(name, query, var, values):
    path = os.path.join(VAR, f"bench-bodies-{name}.txt")
    with open(path, "w") as f:
        f.writelines(json.dumps({"query": query, "variables": {var: v}}) + "\n" for v in values)
    return path


def check(url, token, page_body, post_body):
    """The servers must answer the benchmark's queries with data, not errors."""
    j = post_json(url, page_body, token)
    edges = (j.get("data") or {}).get("channelPosts", {}).get("edges", [])
    if j.get("errors") or len(edges) != 20 or not edges[0]["node"]["author"]:
        raise RuntimeError(f"{url}: bad channelPosts answer: {json.dumps(j)[:300]}")
    j = post_json(url, post_body, token)
    if j.get("errors") or not (j.get("data") or {}).get("post", {}).get("author"):
        raise RuntimeError(f"{url}: bad post answer: {json.dumps(j)[:300]}")


def engine(runs=3):
    """ns per request of a 20-post page, median of runs: with the document cache agora.fcgi
    uses (ns_per_op: the query text repeats) and without it (parse+validate every time)."""
    exe = os.path.join(os.environ["AGORA_BUILD"], "bench", "graphql_engine_bench")
    if not os.access(exe, os.X_OK):
        return None
    out, unc = [], []
    for _ in range(runs):
        lines = subprocess.run([exe, "20000"], capture_output=True, text=True,
                               check=True).stdout.splitlines()
        out.append(float(lines[0].split(": ")[1].split()[0]))
        unc.append(float(lines[1].split(": ")[1].split()[0]))
    out.sort()
    unc.sort()
    return {"ns_per_op": out[len(out) // 2], "all": out, "uncached_ns_per_op": unc[len(unc) // 2],
            "uncached_all": unc, "line": "; ".join(lines)}


def main():
    data = bl.seed()
    ids = data["token_users"]
    bl.token_file(ids)
    tok = bl.mint_token(ids[0])
    clo, chi = data["channel_range"]
    rnd = random.Random(8)
    page_bodies = bodies("page", Q_PAGE, "c", [str(c) for c in rnd.sample(range(clo, chi + 1), chi - clo + 1)])
    post_ids = [f"{rnd.randint(1, data['posts']):024x}" for _ in range(1000)]
    post_bodies = bodies("post", Q_POST, "id", post_ids)
    schema = os.path.join(VAR, "schema.graphql")
    with urllib.request.urlopen(BASE + "/graphql/schema.graphql", timeout=5) as r, open(schema, "wb") as f:
        f.write(r.read())
    page1 = {"query": Q_PAGE, "variables": {"c": str(clo)}}
    post1 = {"query": Q_POST, "variables": {"id": post_ids[0]}}

    pg = {"postgres": bl.pidfile("postgres")}
    agora = {"apache": bl.pidfile("apache"), "fcgi": bl.pidfile("fcgi"), "redis": bl.pidfile("redis"), **pg}
    peers = []
    micro = engine()
    try:
        env = {"SCHEMA_FILE": schema}
        peers = [bl.Peer("graphql-http-1p", "gql-graphql-http.js", PORT + 12, 1, env),
                 bl.Peer("graphql-http-2w", "gql-graphql-http.js", PORT + 13, 2, env),
                 bl.Peer("mercurius-1p", "gql-mercurius.js", PORT + 14, 1, env)]
        for url in [BASE + "/graphql"] + [p.url + "/graphql" for p in peers]:
            check(url, tok, page1, post1)

        def gql(url, bodies_file, procs):
            def run(c):
                os.environ["AGORA_BENCH_BODIES"] = bodies_file
                return bl.wrk(url, c, SECONDS, script=os.path.join(HERE, "gql.lua"), warmup=WARMUP,
                              procs=procs)
            return run

        targets = [
            ("agora REST users/{id}", "rest", lambda c: bl.wrk(
                BASE + "/api/v1/users/{id}", c, SECONDS, script=os.path.join(HERE, "tokens.lua"),
                warmup=WARMUP, procs=agora)),
            ("agora channelPosts", "page", gql(BASE + "/graphql", page_bodies, agora)),
            ("agora post(id)", "post", gql(BASE + "/graphql", post_bodies, agora)),
        ]
        for p in peers:
            procs = {"node": p.pids, **pg}
            targets.append((f"{p.name} channelPosts", "page", gql(p.url + "/graphql", page_bodies, procs)))
            if not p.name.endswith("2w"):
                targets.append((f"{p.name} post(id)", "post", gql(p.url + "/graphql", post_bodies, procs)))
        targets.append(("pgbench channelPosts SQL", "page", lambda c: bl.pgbench(
            PG_PAGE.format(clo=clo, chi=chi, ulo=ids[0], uhi=ids[-1]), c, SECONDS, WARMUP, procs=pg)))
        targets.append(("pgbench post(id) SQL", "post", lambda c: bl.pgbench(
            PG_POST.format(posts=data["posts"], ulo=ids[0], uhi=ids[-1]), c, SECONDS, WARMUP, procs=pg)))
        runs = bl.rounds(targets, CONNS, REPEAT, "query")
    finally:
        for p in peers:
            p.stop()
    rows = table_rows(runs)
    path = bl.save("graphql", {
        "benchmark": "graphql",
        "load": f"wrk -t2 -cN (N in {CONNS}) POST /graphql, {SECONDS}s after {WARMUP}s warm-up, "
                f"median of {REPEAT}; {len(ids)} users in turn, channel and post rotated per request; "
                "pgbench -M prepared -j2 -cN",
        "queries": {"page": Q_PAGE, "post": Q_POST},
        "data": {k: v for k, v in data.items() if k != "token_users"},
        "engine_micro": micro,
        "goal": "engine < 20 us/query; channelPosts >= 0.8x REST lookup, >= 0.7x pgbench of its SQL, "
                ">= 2.5x Mercurius",
        "runs": runs, "table": rows})
    print()
    bl.table(rows, ["conns", "target", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "srv cpu%",
                    "pg cpu%", "x REST", "x mercurius", "x graphql-http", "x pgbench", "p99 x mercurius"])
    if micro:
        print(f"engine micro-benchmark: {micro['ns_per_op'] / 1000:.1f} us per cached-document+execute+"
              f"serialize of a 20-post page, {micro['uncached_ns_per_op'] / 1000:.1f} us with "
              f"parse+validate (median of {len(micro['all'])}; goal < 20 us)")
    print(f"results: {path}")


def table_rows(runs):
    rows = []
    for c in CONNS:
        by = {r["name"]: r for r in runs if r["connections"] == c}
        rest = by["agora REST users/{id}"]["rps"]
        for r in (x for x in runs if x["connections"] == c):
            q = r["query"]
            label = "channelPosts" if q == "page" else "post(id)"

            def ratio(n, key="rps"):
                o = by.get(n)
                return f"{r[key] / o[key]:.2f}" if o and o.get(key) else ""
            cpu = r["cpu_pct"]
            srv = sum(v for k, v in cpu.items() if k in ("apache", "fcgi", "node"))
            row = {"conns": c, "target": r["name"], "req/s": f"{r['rps']:.0f}",
                   "p50 ms": bl.fmt(r["p50_ms"]), "p99 ms": bl.fmt(r["p99_ms"]),
                   "p99.9 ms": bl.fmt(r.get("p999_ms")), "errors": r["non_2xx"] + r["socket_errors"],
                   "srv cpu%": f"{srv:.0f}" if not r["name"].startswith("pgbench") else "",
                   "pg cpu%": f"{cpu.get('postgres', 0):.0f}", "x REST": f"{r['rps'] / rest:.2f}"}
            if r["name"].startswith("agora") and q != "rest":
                row["x mercurius"] = ratio(f"mercurius-1p {label}")
                row["x graphql-http"] = ratio(f"graphql-http-1p {label}")
                row["x pgbench"] = ratio(f"pgbench {label} SQL")
                row["p99 x mercurius"] = ratio(f"mercurius-1p {label}", "p99_ms")
            rows.append(row)
    return rows


if __name__ == "__main__":
    main()
