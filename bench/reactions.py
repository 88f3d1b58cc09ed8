#!/usr/bin/python3
"""bench/reactions.py — `./agora bench reactions`: reaction fan-out. Members of one
channel hold WebSocket sessions to the stack's agora-wsd (through nothing: its own
port); one member toggles a reaction on a post over GraphQL through Apache
(addReaction, then removeReaction, ...) at AGORA_BENCH_REACTION_RATE (20/s) for
AGORA_BENCH_SECONDS (10) after AGORA_BENCH_WARMUP (2). Each `reaction` frame is
timed from the moment its mutation was sent to its arrival at every subscriber
(AGORA_BENCH_REACTION_SUBS, 200). The peer beside it, in the same run with the same
sessions: createPost at the same rate, timed to its `channel_message` frames (the
message path every other benchmark measures). Reports; never fails the suite."""
import base64
import json
import os
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import fanout as fo  # noqa: E402

HTTP, WSP = int(os.environ["AGORA_HTTP_PORT"]), int(os.environ["AGORA_WS_PORT"])
TIERS = ("apache", "fcgi", "wsd", "postgres", "nats")


def ws_open(token):
    s = socket.create_connection(("127.0.0.1", WSP), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /?access_token={token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    head, _, rest = buf.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(f"handshake refused: {head[:80]!r}")
    s.setblocking(False)
    return s, rest


def frames(buf):
    """Complete text frames (server frames are unmasked) out of buf; the rest."""
    out = []
    while len(buf) >= 2:
        n, i = buf[1] & 0x7f, 2
        if n == 126:
            if len(buf) < 4:
                break
            n, i = int.from_bytes(buf[2:4], "big"), 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, i = int.from_bytes(buf[2:10], "big"), 10
        if len(buf) < i + n:
            break
        if buf[0] & 0x0f == 1:
            out.append(buf[i:i + n])
        buf = buf[i + n:]
    return out, buf


class Readers:
    """Sockets read by one thread: the arrival time of each frame, by the key that
    key(tag, frame) gives it (None: not counted). socks: (socket, bytes read past
    the handshake, tag)."""

    def __init__(self, socks):
        self.socks = {s.fileno(): [s, rest, tag] for s, rest, tag in socks}
        self.arrivals, self.lock, self.stop = {}, threading.Lock(), False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def key(self, tag, j):
        raise NotImplementedError

    def loop(self):
        while not self.stop:
            r, _, _ = select.select(list(self.socks), [], [], 0.2)
            now = time.monotonic()
            for fd in r:
                ent = self.socks[fd]
                try:
                    data = ent[0].recv(262144)
                except BlockingIOError:
                    continue
                if not data:
                    continue
                got, ent[1] = frames(ent[1] + data)
                for f in got:
                    key = self.key(ent[2], json.loads(f))
                    if key:
                        with self.lock:
                            self.arrivals.setdefault(key, []).append(now)

    def close(self):
        self.stop = True
        self.t.join()
        for s, _, _ in self.socks.values():
            s.close()


class Subscribers(Readers):
    """§4 sessions: reaction frames by (op, seq), channel_message by messageId."""

    def __init__(self, tokens):
        super().__init__([ws_open(t) + (None,) for t in tokens])

    def key(self, tag, j):
        if j.get("type") == "reaction":
            return ("r", j.get("op"), j.get("seq"))
        if j.get("type") == "channel_message":
            return ("p", j.get("messageId"))
        return None


def gql(conn, token, query, variables):
    import http.client
    conn.request("POST", "/graphql", body=json.dumps({"query": query, "variables": variables}),
                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    r = conn.getresponse()
    return json.loads(r.read())


def measure(kind, subs, token, cid, post_id, rate, seconds, warmup, groups):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", HTTP, timeout=30)
    sent, t_end, i = [], time.monotonic() + warmup + seconds, 0
    t_measure = time.monotonic() + warmup
    sampler = None
    nats = fo.write_lines  # noqa: F841 (keeps fanout's helpers imported for seeding)
    while time.monotonic() < t_end:
        if sampler is None and time.monotonic() >= t_measure:
            sampler = bl.Sampler(groups)
        t0 = time.monotonic()
        if kind == "reaction":
            op = "addReaction" if i % 2 == 0 else "removeReaction"
            gql(conn, token, f"mutation($t: ID!) {{ {op}(targetId: $t, emoji: \"👍\") {{ count }} }}", {"t": post_id})
            sent.append((t0, "added" if i % 2 == 0 else "removed"))
        else:
            r = gql(conn, token, "mutation($c: ID!) { createPost(channelId: $c, body: \"bench\") { id } }", {"c": cid})
            sent.append((t0, r["data"]["createPost"]["id"]))
        i += 1
        time.sleep(max(0.0, t0 + 1.0 / rate - time.monotonic()))
    time.sleep(2)  # the last frames
    s = sampler.stop() if sampler else {"cpu_pct": {}}
    return sent, s


def main():
    nsubs = int(os.environ.get("AGORA_BENCH_REACTION_SUBS", "200"))
    rate = int(os.environ.get("AGORA_BENCH_REACTION_RATE", "20"))
    seconds = int(os.environ.get("AGORA_BENCH_SECONDS", "10"))
    warmup = int(os.environ.get("AGORA_BENCH_WARMUP", "2"))
    uids, cids = fo.seed_ws(nsubs, 1)
    tokens = [bl.mint_token(u) for u in uids]
    groups = {t: bl.pidfile(t) for t in TIERS}
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", HTTP, timeout=30)
    post_id = gql(conn, tokens[0], "mutation($c: ID!) { createPost(channelId: $c, body: \"react here\") { id } }",
                  {"c": cids[0]})["data"]["createPost"]["id"]
    subs = Subscribers(tokens)
    time.sleep(2)  # every session attached
    rows = []
    for kind in ("reaction", "post"):
        subs.arrivals.clear()
        sent, s = measure(kind, subs, tokens[0], cids[0], post_id, rate, seconds, warmup, groups)
        lat, expected, got = [], 0, 0
        with subs.lock:
            arrivals = dict(subs.arrivals)
        if kind == "reaction":
            # frames carry seq, not the request: match the k-th frame of each op to the k-th request
            by_op = {}
            for key, ts in sorted(arrivals.items(), key=lambda kv: kv[0][2] or 0):
                by_op.setdefault(key[1], []).append(ts)
            for op in ("added", "removed"):
                reqs = [t for t, o in sent if o == op]
                for t0, ts in zip(reqs, by_op.get(op, [])):
                    lat.extend((t - t0) * 1000 for t in ts)
                    got += len(ts)
                expected += len(reqs) * nsubs
        else:
            for t0, pid in sent:
                ts = arrivals.get(("p", pid), [])
                lat.extend((t - t0) * 1000 for t in ts)
                got += len(ts)
                expected += nsubs
        lat.sort()
        pick = lambda q: round(lat[min(len(lat) - 1, int(len(lat) * q))], 2) if lat else None  # noqa: E731
        row = {"event": kind, "subscribers": nsubs, "rate": rate, "sent": len(sent),
               "deliveries": got, "delivered_pct": round(100.0 * got / expected, 2) if expected else None,
               "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": pick(1.0), "cpu_pct": s["cpu_pct"]}
        rows.append(row)
        print(f"  {kind:<8} {rate}/s to {nsubs}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, "
              f"delivered {row['delivered_pct']}%", file=sys.stderr, flush=True)
    subs.close()
    path = bl.save("reactions", {"benchmark": "reactions", "subscribers": nsubs, "rate": rate,
                                 "seconds": seconds, "warmup": warmup, "runs": rows})
    print(f"reactions: addReaction/removeReaction through Apache -> reaction frames at {nsubs} "
          f"subscribers; beside it createPost -> channel_message, same sessions -> {path}")
    bl.table(rows, ["event", "subscribers", "rate", "sent", "delivered_pct", "p50_ms", "p99_ms", "max_ms"])


if __name__ == "__main__":
    main()
