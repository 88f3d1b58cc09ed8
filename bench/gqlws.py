#!/usr/bin/python3
"""bench/gqlws.py — `./agora bench gqlws`: GraphQL subscriptions beside §4 frames.
AGORA_BENCH_GQLWS_SUBS (200) members of one channel each hold a §4 session and a
graphql-transport-ws connection with one channelEvents subscription, both straight
to the stack's agora-wsd. One member posts over GraphQL through Apache at
AGORA_BENCH_GQLWS_RATE (20/s) for AGORA_BENCH_SECONDS (10) after AGORA_BENCH_WARMUP
(2). Every post is timed from its mutation's send to its arrival at each subscriber,
as a `channel_message` frame (§4: ids only, the peer) and as a `next` message with the
post's body and author (GraphQL: the post read from the content store) — the same
events, the same run, the same sessions. Two selections: one every subscriber shares
(one execution per event), and one with reactions { reactedByMe } (one execution per
viewer). agora-wsd's gql_executions_total says how many ran. Reports; never fails the
suite."""
import base64
import json
import os
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
import fanout as fo  # noqa: E402
import reactions as rx  # noqa: E402

HTTP, WSP = int(os.environ["AGORA_HTTP_PORT"]), int(os.environ["AGORA_WS_PORT"])
TIERS = ("apache", "fcgi", "wsd", "postgres", "nats")
SHARED = ("subscription($c: ID!) { channelEvents(channelId: $c) { type seq messageId "
          "post { id body author { username } } } }")
PER_VIEWER = ("subscription($c: ID!) { channelEvents(channelId: $c) { type seq messageId "
              "post { id body author { username } reactions { emoji reactedByMe } } } }")


def gql_open(token, doc, cid):
    s = socket.create_connection(("127.0.0.1", WSP), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    head, _, rest = buf.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise RuntimeError(f"handshake refused: {head[:80]!r}")
    send(s, {"type": "connection_init", "payload": {"authorization": "Bearer " + token}})
    while True:  # subscribe only after connection_ack (before it: closed 4401)
        got, rest = rx.frames(rest)
        if any(json.loads(f).get("type") == "connection_ack" for f in got):
            break
        data = s.recv(65536)
        if not data:
            raise RuntimeError("closed before connection_ack")
        rest += data
    send(s, {"id": "1", "type": "subscribe", "payload": {"query": doc, "variables": {"c": cid}}})
    s.setblocking(False)
    return s, rest


def send(s, m):
    p = json.dumps(m).encode()
    mask = os.urandom(4)
    hdr = bytes([0x81]) + (bytes([0x80 | len(p)]) if len(p) < 126
                           else bytes([0x80 | 126]) + len(p).to_bytes(2, "big"))
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(p)))


class Listeners(rx.Readers):
    """§4 sessions and graphql-ws connections: arrivals by (protocol, post id)."""

    def __init__(self, tokens, doc, cid):
        super().__init__([c for t in tokens
                          for c in (rx.ws_open(t) + ("ws",), gql_open(t, doc, cid) + ("gql",))])

    def key(self, tag, j):
        if tag == "ws" and j.get("type") == "channel_message":
            return ("ws", j["messageId"])
        if tag == "gql" and j.get("type") == "next":
            e = j["payload"]["data"]["channelEvents"]
            if e.get("post") and e["type"] == "channel_message":
                return ("gql", e["messageId"])
        return None


def executions():
    text = urllib.request.urlopen(f"http://127.0.0.1:{WSP}/metrics", timeout=10).read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("agora_wsd_gql_executions_total"))


def main():
    nsubs = int(os.environ.get("AGORA_BENCH_GQLWS_SUBS", "200"))
    rate = int(os.environ.get("AGORA_BENCH_GQLWS_RATE", "20"))
    seconds = int(os.environ.get("AGORA_BENCH_SECONDS", "10"))
    warmup = int(os.environ.get("AGORA_BENCH_WARMUP", "2"))
    uids, cids = fo.seed_ws(nsubs, 1)
    tokens = [bl.mint_token(u) for u in uids]
    groups = {t: bl.pidfile(t) for t in TIERS}
    rows = []
    for name, doc in (("shared selection", SHARED), ("reactedByMe (per viewer)", PER_VIEWER)):
        subs = Listeners(tokens, doc, cids[0])
        time.sleep(3)  # every session attached, every subscription checked
        before = executions()
        sent, s = rx.measure("post", subs, tokens[0], cids[0], None, rate, seconds, warmup, groups)
        ran = executions() - before
        with subs.lock:
            arrivals = dict(subs.arrivals)
        subs.close()
        for proto in ("ws", "gql"):
            lat, got = [], 0
            for t0, pid in sent:
                ts = arrivals.get((proto, pid), [])
                lat.extend((t - t0) * 1000 for t in ts)
                got += len(ts)
            lat.sort()
            pick = lambda q: round(lat[min(len(lat) - 1, int(len(lat) * q))], 2) if lat else None  # noqa: E731
            row = {"selection": name, "protocol": "§4 channel_message" if proto == "ws"
                   else "graphql-ws next (post body, author)", "subscribers": nsubs, "rate": rate,
                   "sent": len(sent), "delivered_pct": round(100.0 * got / (len(sent) * nsubs), 2)
                   if sent else None, "p50_ms": pick(0.5), "p99_ms": pick(0.99),
                   "max_ms": pick(1.0), "executions_per_event":
                   round(ran / len(sent), 1) if proto == "gql" and sent else None,
                   "cpu_pct": s["cpu_pct"]}
            rows.append(row)
            print(f"  {name}: {row['protocol']}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, "
                  f"delivered {row['delivered_pct']}%", file=sys.stderr, flush=True)
    path = bl.save("gqlws", {"benchmark": "gqlws", "subscribers": nsubs, "rate": rate,
                             "seconds": seconds, "warmup": warmup, "runs": rows})
    print(f"gqlws: createPost through Apache -> {nsubs} subscribers, each with a §4 session and a "
          f"GraphQL subscription to the same channel (same events, same run) -> {path}")
    bl.table(rows, ["selection", "protocol", "subscribers", "rate", "sent", "delivered_pct",
                    "p50_ms", "p99_ms", "max_ms", "executions_per_event"])


if __name__ == "__main__":
    main()
