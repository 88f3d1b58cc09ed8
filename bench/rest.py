#!/usr/bin/python3
"""bench/rest.py — `./agora bench rest`: authenticated GET /api/v1/users/{id}
beside the same Apache serving a static file and a FastCGI hello-world, in the
same run on the stack ./agora bench started. Writes bench/results/rest.json.
The goal from the REST issue: >= 0.6x the hello-world, p99 <= 10 ms at 32
connections. It reports; it never fails the suite."""
import json
import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

PORT = int(os.environ["AGORA_HTTP_PORT"])
BASE = f"http://127.0.0.1:{PORT}"
SECONDS = int(os.environ.get("AGORA_BENCH_SECONDS", "10"))
CONNS = [int(c) for c in os.environ.get("AGORA_BENCH_CONNS", "32").split(",")]


USERS = int(os.environ.get("AGORA_BENCH_USERS", "100"))
HERE = os.path.dirname(os.path.abspath(__file__))


def register(i):
    """One user; each from its own loopback source address (register is limited per IP)."""
    import http.client
    body = json.dumps({"username": f"bench_{os.getpid()}_{i}", "password": "bench-password"})
    c = http.client.HTTPConnection("127.0.0.1", PORT, source_address=(f"127.0.{200 + i // 250}.{1 + i % 250}", 0))
    c.request("POST", "/api/v1/auth/register", body, {"Content-Type": "application/json"})
    j = json.loads(c.getresponse().read())
    c.close()
    return j["user"]["id"], j["token"]


def channels(uid, token, n=5):
    for k in range(n):
        body = json.dumps({"name": f"bench {uid} {k}", "visibility": "public"}).encode()
        req = urllib.request.Request(BASE + "/api/v1/channels", body,
                                     {"Content-Type": "application/json", "Authorization": "Bearer " + token})
        urllib.request.urlopen(req).read()


def main():
    users = [register(i) for i in range(USERS)]
    for uid, tok in users[:10]:
        channels(uid, tok)
    tokfile = os.path.join(os.environ.get("AGORA_VAR", "/tmp"), "bench-tokens.txt")
    with open(tokfile, "w") as f:
        f.writelines(f"{uid} {tok}\n" for uid, tok in users)
    os.environ["AGORA_BENCH_TOKENS"] = tokfile
    script = os.path.join(HERE, "tokens.lua")
    runs = []
    for c in CONNS:
        for name, url, scr in [("static file", BASE + "/index.html", None),
                               ("fcgi hello-world", BASE + "/bench/hello", None),
                               ("GET /users/{id}", BASE + "/api/v1/users/{id}", script),
                               ("GET /channels?member=me", BASE + "/api/v1/channels?member=me", script)]:
            r = benchlib.wrk(url, conns=c, seconds=SECONDS, script=scr)
            r["name"] = name
            runs.append(r)
    rows = []
    for c in CONNS:
        by = {r["name"]: r for r in runs if r["connections"] == c}
        hello, static = by["fcgi hello-world"], by["static file"]
        for r in (static, hello, by["GET /users/{id}"], by["GET /channels?member=me"]):
            rows.append({"conns": c, "target": r["name"], "req/s": f"{r['rps']:.0f}",
                         "p50 ms": f"{r['p50_ms']:.2f}", "p99 ms": f"{r['p99_ms']:.2f}",
                         "errors": r["non_2xx"] + r["socket_errors"],
                         "vs hello": f"{r['rps'] / hello['rps']:.2f}x",
                         "vs static": f"{r['rps'] / static['rps']:.2f}x"})
    path = benchlib.save("rest", {"benchmark": "rest",
                                  "load": f"wrk -t2, {SECONDS}s after 2s warm-up, {USERS} users in turn "
                                          "(per-user rate limit on)",
                                  "runs": runs, "goal": ">= 0.6x fcgi hello-world, p99 <= 10 ms at 32 conns"})
    benchlib.table(rows, ["conns", "target", "req/s", "p50 ms", "p99 ms", "errors", "vs hello", "vs static"])
    print(f"results: {path}")


if __name__ == "__main__":
    main()
