#!/usr/bin/python3
"""bench/workers.py — `./agora bench workers`: time for each cron job to drain a
backlog. Load: N posts (default 100,000; AGORA_BENCH_WORKER_EVENTS) written
straight into PostgreSQL, one in ten mentioning a user, and their N
`channel.<id>.message.created` events published into CHANNEL_STREAM; then
`agora-worker index`, `analytics` and `fanout` each drain the same N events
from their own durable consumer, and `outbox` republishes N pending outbox
rows. Reports drain time and events/s per job (one run each; a cron run's
budget is 50 s, so events/s x 50 is what one run clears). Writes
bench/results/workers.json and prints a table. It reports; it never fails."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

N = int(os.environ.get("AGORA_BENCH_WORKER_EVENTS", "100000"))
HTTP = int(os.environ["AGORA_HTTP_PORT"])
PG = int(os.environ["AGORA_PG_PORT"])
NATS = int(os.environ["AGORA_NATS_PORT"])
WORKER = os.path.join(os.environ["AGORA_BUILD"], "workers", "agora-worker")


def api(method, path, body=None, token=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    req = urllib.request.Request(f"http://127.0.0.1:{HTTP}/api/v1{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None, headers=h)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def psql(sql):
    return subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(PG), "-U", "agora", "-d", "agora",
                           "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def publish(cid, ids):
    """Core publishes into CHANNEL_STREAM, 1000 at a time with a PING/PONG between
    chunks so that the server keeps up (JetStream stores core publishes too)."""
    s = socket.create_connection(("127.0.0.1", NATS), timeout=30)
    s.recv(4096)
    s.sendall(b'CONNECT {"verbose":false}\r\n')
    subj = f"channel.{cid}.message.created"
    for i in range(0, len(ids), 1000):
        out = []
        for oid in ids[i:i + 1000]:
            data = json.dumps({"messageId": oid}).encode()
            out.append(f"PUB {subj} {len(data)}\r\n".encode() + data + b"\r\n")
        s.sendall(b"".join(out) + b"PING\r\n")
        buf = b""
        while b"PONG" not in buf:
            buf += s.recv(4096)
    s.close()


def run(job):
    t0 = time.monotonic()
    # the bench stack logs at warn: the run's summary line (the counts) is at info
    env = dict(os.environ, AGORA_LOG_LEVEL="info")
    p = subprocess.run([WORKER, job, "--max-seconds", "1800", "--batch", "500"], capture_output=True,
                       text=True, env=env)
    dt = time.monotonic() - t0
    m = re.search(r"fetched (\d+)", p.stderr)
    done = re.search(r"(\w[\w ()]*?) (\d+), (\w[\w ()]*?) (\d+)(?:,| in)", p.stderr.split("; ", 1)[-1])
    n = int(m.group(1)) if m else None
    return {"job": job, "rc": p.returncode, "seconds": round(dt, 2), "fetched": n,
            "summary": p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "",
            "_done": done.groups() if done else None}


def main():
    try:
        stamp = int(time.time())
        a = api("POST", "/auth/register", {"username": f"wb_a{stamp}", "password": "password123"})
        b = api("POST", "/auth/register", {"username": f"wb_b{stamp}", "password": "password123"})
        tok = a["token"]
        cid = api("POST", "/channels", {"name": f"workers-{stamp}", "visibility": "public"}, tok)["id"]
        t0 = time.monotonic()
        psql(f"INSERT INTO posts (id, channel_id, author_id, created_at, doc) "
             f"SELECT lpad(to_hex({stamp}), 8, '0') || lpad(to_hex(g), 16, '0'), {cid}, {a['user']['id']}, "
             f"now(), jsonb_build_object('body', 'bench post ' || g || ' lorem ipsum dolor sit amet' "
             f"|| CASE WHEN g % 10 = 0 THEN ' @{b['user']['username']}' ELSE '' END) "
             f"FROM generate_series(1, {N}) g")
        ids = psql(f"SELECT id FROM posts WHERE channel_id = {cid} ORDER BY id").split()
        publish(cid, ids)
        load_s = time.monotonic() - t0
        results = []
        for job in ("index", "analytics", "fanout"):
            r = run(job)
            r["events_per_s"] = round(r["fetched"] / r["seconds"], 1) if r["fetched"] else None
            results.append(r)
        psql(f"INSERT INTO content_outbox (msg_id, subject, payload, created_at) "
             f"SELECT 'bench-{stamp}-' || g, 'channel.{cid}.message.updated', "
             f"'{{\"messageId\":\"' || lpad(to_hex({stamp}), 8, '0') || lpad(to_hex(g), 16, '0') || '\"}}', "
             f"now() - interval '1 minute' FROM generate_series(1, {N}) g")
        r = run("outbox")
        left = int(psql(f"SELECT count(*) FROM content_outbox WHERE msg_id LIKE 'bench-{stamp}-%' "
                        "AND published_at IS NULL"))
        r["fetched"] = N - left
        r["events_per_s"] = round(r["fetched"] / r["seconds"], 1) if r["seconds"] else None
        results.append(r)
        for r in results:
            r.pop("_done", None)
        out = {"load": {"events": N, "mentions": N // 10, "seeding_seconds": round(load_s, 1)},
               "limit": "one PostgreSQL round trip or more per event (content read, then the job's "
                        "write); fanout adds a synchronous JetStream publish per notification, outbox "
                        "one per event",
               "jobs": results}
        path = bl.save("workers", out)
        print(f"workers: {N} pending events (posts in PostgreSQL, events in CHANNEL_STREAM)")
        print(f"{'job':<10} {'drained':>9} {'seconds':>9} {'events/s':>10}  rc")
        for r in results:
            print(f"{r['job']:<10} {r['fetched'] or 0:>9} {r['seconds']:>9.2f} "
                  f"{r['events_per_s'] or 0:>10.1f}  {r['rc']}")
        print(f"results: {path}")
    except Exception as e:  # noqa: BLE001 — a benchmark reports, it never fails the run
        print(f"workers benchmark could not run: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
