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


def register():
    body = json.dumps({"username": f"bench_{os.getpid()}", "password": "bench-password"}).encode()
    req = urllib.request.Request(BASE + "/api/v1/auth/register", body, {"Content-Type": "application/json"})
    j = json.load(urllib.request.urlopen(req))
    return j["user"]["id"], j["token"]


def main():
    uid, token = register()
    auth = {"Authorization": "Bearer " + token}
    runs = []
    for c in CONNS:
        for name, url, hdr in [("static file", BASE + "/index.html", None),
                               ("fcgi hello-world", BASE + "/bench/hello", None),
                               ("GET /users/{id}", BASE + f"/api/v1/users/{uid}", auth)]:
            r = benchlib.wrk(url, conns=c, seconds=SECONDS, headers=hdr)
            r["name"] = name
            runs.append(r)
    rows = []
    for c in CONNS:
        by = {r["name"]: r for r in runs if r["connections"] == c}
        api, hello, static = by["GET /users/{id}"], by["fcgi hello-world"], by["static file"]
        for r in (static, hello, api):
            rows.append({"conns": c, "target": r["name"], "req/s": f"{r['rps']:.0f}",
                         "p50 ms": f"{r['p50_ms']:.2f}", "p99 ms": f"{r['p99_ms']:.2f}",
                         "errors": r["non_2xx"] + r["socket_errors"],
                         "vs hello": f"{r['rps'] / hello['rps']:.2f}x",
                         "vs static": f"{r['rps'] / static['rps']:.2f}x"})
    path = benchlib.save("rest", {"benchmark": "rest", "load": f"wrk -t2, {SECONDS}s after 2s warm-up",
                                  "runs": runs, "goal": ">= 0.6x fcgi hello-world, p99 <= 10 ms at 32 conns"})
    benchlib.table(rows, ["conns", "target", "req/s", "p50 ms", "p99 ms", "errors", "vs hello", "vs static"])
    print(f"results: {path}")


if __name__ == "__main__":
    main()
