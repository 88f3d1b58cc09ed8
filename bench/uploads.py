#!/usr/bin/python3
"""bench/uploads.py — `./agora bench uploads`: files through Apache into the data
directory. Four loads, each by AGORA_BENCH_UPLOAD_CONNS (4) clients in a loop for
AGORA_BENCH_SECONDS (10) after AGORA_BENCH_WARMUP (2):

  one-request   POST /api/v1/uploads, 1 MiB of text (sniffed, hashed, stored)
  tus           8 MiB of text by tus 1.0 in 512 KiB PATCHes (create, 16 PATCHes)
  image         POST /api/v1/uploads, a 1000x1000 PNG (decoded, stripped,
                re-encoded and thumbnailed by libvips)
  read          GET /api/v1/files/{id} of a 1 MiB file: authorized by agora.fcgi,
                sent by Apache (mod_xsendfile)

Each reports MiB/s, request p50/p99, and CPU per MiB (seconds of CPU of Apache, the
FastCGI pool and PostgreSQL per MiB moved). The limit beside them, in the same run
and the same Apache: the same 1 MiB bodies POSTed to the FastCGI hello world
(Apache + mod_proxy_fcgi moving the bytes, nothing stored), and a static 1 MiB
file served by Apache. Reports; never fails the suite."""
import hashlib
import http.client
import json
import os
import struct
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import fanout as fo  # noqa: E402

PORT = int(os.environ["AGORA_HTTP_PORT"])
TIERS = ("apache", "fcgi", "postgres")
MIB = 1024 * 1024


def png(w, h):
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in ((x * 7 + y) % 256, (y * 3) % 256, (x ^ y) % 256))
                    for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def text(n, salt):
    line = f"benchmark upload {salt} " * 4 + "\n"
    return (line * (n // len(line) + 1)).encode()[:n]


class Client:
    def __init__(self):
        self.c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)

    def req(self, method, path, body=None, headers=None):
        try:
            self.c.request(method, path, body=body, headers=headers or {})
            r = self.c.getresponse()
            data = r.read()
            return r.status, r.getheaders(), data
        except (OSError, http.client.HTTPException):
            self.c.close()
            self.c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            return 0, [], b""


def one_request(cl, tok, i, body):
    st, _, _ = cl.req("POST", "/api/v1/uploads", body, {"Authorization": "Bearer " + tok,
                                                         "Content-Type": "text/plain"})
    return st == 201, len(body)


def tus(cl, tok, i, body):
    h = {"Authorization": "Bearer " + tok, "Tus-Resumable": "1.0.0"}
    st, hd, _ = cl.req("POST", "/api/v1/uploads/", b"", dict(h, **{"Upload-Length": str(len(body))}))
    loc = dict((k.lower(), v) for k, v in hd).get("location")
    if st != 201 or not loc:
        return False, 0
    off, step = 0, 512 * 1024
    while off < len(body):
        st, _, _ = cl.req("PATCH", loc, body[off:off + step], dict(h, **{
            "Upload-Offset": str(off), "Content-Type": "application/offset+octet-stream"}))
        if st != 204:
            return False, off
        off += step
    return True, len(body)


def run(name, fn, tokens, bodies, conns, seconds, warmup, groups):
    lat, moved, fails, stop = [], [0], [0], time.monotonic() + warmup + seconds
    t_measure = time.monotonic() + warmup
    lock = threading.Lock()
    sampler = [None]

    def worker(k):
        cl, i = Client(), 0
        while time.monotonic() < stop:
            t0 = time.monotonic()
            ok, n = fn(cl, tokens[(k + conns * i) % len(tokens)], i, bodies[(k + i) % len(bodies)])
            t1 = time.monotonic()
            i += 1
            if t0 >= t_measure:
                with lock:
                    if ok:
                        lat.append((t1 - t0) * 1000)
                        moved[0] += n
                    else:
                        fails[0] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    sampler[0] = bl.Sampler(groups)
    for t in threads:
        t.join()
    s = sampler[0].stop()
    lat.sort()
    mib = moved[0] / MIB
    cpu_s = sum(s["cpu_pct"].get(t, 0) for t in TIERS) / 100.0 * seconds
    row = {"load": name, "conns": conns, "requests": len(lat), "failed": fails[0],
           "mib_per_s": round(mib / seconds, 2),
           "p50_ms": round(lat[len(lat) // 2], 1) if lat else None,
           "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1) if lat else None,
           "cpu_s_per_mib": round(cpu_s / mib, 3) if mib else None, "cpu_pct": s["cpu_pct"]}
    print(f"  {name:<13} {row['mib_per_s']} MiB/s, p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, "
          f"{row['cpu_s_per_mib']} cpu-s/MiB, {fails[0]} failed", file=sys.stderr, flush=True)
    return row


def main():
    conns = int(os.environ.get("AGORA_BENCH_UPLOAD_CONNS", "4"))
    seconds = int(os.environ.get("AGORA_BENCH_SECONDS", "10"))
    warmup = int(os.environ.get("AGORA_BENCH_WARMUP", "2"))
    # the bench's uploaders get no upload quota or rate (the bench stack's config);
    # requests rotate over 64 users so that the API's per-user rate limit (200/s)
    # never refuses a read
    uids, cids = fo.seed_ws(max(64, conns), 1)
    tokens = [bl.mint_token(u) for u in uids]
    groups = {t: bl.pidfile(t) for t in TIERS}
    one = [text(MIB, i) for i in range(8)]
    big = [text(8 * MIB, i) for i in range(2)]
    img = [png(1000, 1000)]
    # the file read: one stored 1 MiB file, posted in the channel all the users share,
    # and its static twin in the data directory's public avatars/ (same disk, same Apache)
    st, _, b = Client().req("POST", "/api/v1/uploads", one[0], {"Authorization": "Bearer " + tokens[0]})
    file_url = json.loads(b)["url"] if st == 201 else None
    if file_url:
        q = {"query": "mutation($c: ID!, $a: [ID!]) { createPost(channelId: $c, body: \"f\", attachmentIds: $a) { id } }",
             "variables": {"c": str(cids[0]), "a": [file_url.rsplit("/", 1)[1]]}}
        Client().req("POST", "/graphql", json.dumps(q).encode(), {"Authorization": "Bearer " + tokens[0],
                                                                  "Content-Type": "application/json"})
    static_dir = os.path.join(os.environ["AGORA_VAR"], "data", "avatars", "be")
    os.makedirs(static_dir, exist_ok=True)
    with open(os.path.join(static_dir, "bench-1mib.webp"), "wb") as f:
        f.write(one[0])
    hello = lambda cl, tok, i, body: (cl.req("POST", "/bench/hello", body, {"Content-Type": "text/plain"})[0] == 200, len(body))  # noqa: E731
    static = lambda cl, tok, i, body: (lambda r: (r[0] == 200, len(r[2])))(cl.req("GET", "/avatars/be/bench-1mib.webp"))  # noqa: E731
    read = lambda cl, tok, i, body: (lambda r: (r[0] == 200, len(r[2])))(  # noqa: E731
        cl.req("GET", file_url, None, {"Authorization": "Bearer " + tok}))
    rows = [run("one-request", one_request, tokens, one, conns, seconds, warmup, groups),
            run("tus 8 MiB", tus, tokens, big, conns, seconds, warmup, groups),
            run("image 1 MP", lambda cl, tok, i, body: (cl.req("POST", "/api/v1/uploads", body, {
                "Authorization": "Bearer " + tok})[0] == 201, len(body)), tokens, img, conns, seconds, warmup, groups),
            run("limit: hello", hello, tokens, one, conns, seconds, warmup, groups)]
    if file_url:
        rows.append(run("read (xsendfile)", read, tokens, one, conns, seconds, warmup, groups))
    rows.append(run("limit: static", static, tokens, one, conns, seconds, warmup, groups))
    data = {"benchmark": "uploads", "conns": conns, "seconds": seconds, "warmup": warmup,
            "image_bytes": len(img[0]), "runs": rows}
    path = bl.save("uploads", data)
    print(f"uploads: {conns} clients, {seconds} s after {warmup} s; limits: 1 MiB POSTed to the "
          f"FastCGI hello world and a static 1 MiB file, same Apache -> {path}")
    bl.table(rows, ["load", "conns", "requests", "failed", "mib_per_s", "p50_ms", "p99_ms", "cpu_s_per_mib"])


if __name__ == "__main__":
    main()
