#!/usr/bin/python3
"""bench/replay.py — `./agora bench replay`: a client that reconnects 10,000
channel events behind its last read offset, and the time until agora-wsd has
replayed all of them (every frame, in seq order, none twice). The limit beside
it, in the same run: the same events read straight from JetStream by a push
consumer from this process (what any replay costs before a daemon is involved).
Knob: AGORA_BENCH_REPLAY_EVENTS (10000). Reports; never fails a suite."""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import benchlib  # noqa: E402
import agora_test as at  # noqa: E402
from gql import channel  # noqa: E402
from wsclient import JS, WS, Closed, oid  # noqa: E402

N = int(os.environ.get("AGORA_BENCH_REPLAY_EVENTS", "10000"))


def jetstream_read(js_port, cid, start_seq, n):
    """Seconds for a push consumer to deliver n events of the channel from start_seq."""
    js = JS(port=js_port)
    inbox = "_INBOX.replaybench" + os.urandom(4).hex()
    js.sock.sendall(f"SUB {inbox} 9\r\n".encode())
    t0 = time.monotonic()
    js.api("$JS.API.CONSUMER.CREATE.CHANNEL_STREAM", json.dumps({
        "stream_name": "CHANNEL_STREAM",
        "config": {"deliver_subject": inbox, "deliver_policy": "by_start_sequence",
                   "opt_start_seq": start_seq, "ack_policy": "none",
                   "filter_subject": f"channel.{cid}.message.*", "flow_control": False,
                   "max_ack_pending": -1}}).encode())
    got = 0
    js.sock.settimeout(30)
    while got < n:
        line = js._line()
        if line.startswith(b"MSG ") or line.startswith(b"HMSG "):
            js._read(int(line.split()[-1]))
            got += 1
        elif line == b"PING":
            js.sock.sendall(b"PONG\r\n")
    secs = time.monotonic() - t0
    js.close()
    return secs


def main():
    u, tok = at.register()
    cid = channel(tok)
    js = JS()
    ws = WS(tok, timeout=30)
    ws.ready(timeout=30)
    first = js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
    f = ws.wait_type("channel_message", timeout=30, seq=first)
    ws.send({"action": "read", "channelId": cid, "seq": f["seq"]})
    time.sleep(0.5)
    ws.close()
    t_pub = time.monotonic()
    for _ in range(N):
        js.publish(f"channel.{cid}.message.created", {"messageId": oid()})
    pub_s = time.monotonic() - t_pub
    # the reconnect: ready, then every missed event replayed from lastRead + 1
    t0 = time.monotonic()
    ws = WS(tok, timeout=30)
    ws.ready(timeout=30)
    t_ready = time.monotonic() - t0
    seqs, last_seq, out_of_order, t_first, closed = set(), 0, 0, None, None
    deadline = time.monotonic() + 120
    while len(seqs) < N and time.monotonic() < deadline:
        try:
            fr = ws.recv(timeout=5)
        except Closed as e:   # reported, not hidden: a replay that ends the session
            closed = f"{e.code} {e.reason}"
            break
        if fr is None or fr.get("type") != "channel_message":
            continue
        if t_first is None:
            t_first = time.monotonic() - t0
        out_of_order += fr["seq"] < last_seq
        last_seq = max(last_seq, fr["seq"])
        seqs.add(fr["seq"])
    caught = time.monotonic() - t0
    ws.close()
    direct = jetstream_read(at.NATS_PORT, cid, first + 1, N)
    res = {"benchmark": "replay", "events": N, "replayed": len(seqs),
           "ready_s": round(t_ready, 3), "first_event_s": round(t_first or -1, 3),
           "caught_up_s": round(caught, 3), "events_per_s": round(len(seqs) / caught),
           "out_of_order": out_of_order, "publish_s": round(pub_s, 2), "closed": closed,
           "limit_jetstream_push_consumer_s": round(direct, 3),
           "limit_events_per_s": round(N / direct),
           "load": f"{N} events published to one channel while the client was away; reconnect"}
    path = benchlib.save("replay", res)
    benchlib.table([{"target": "agora-wsd replay (reconnect → caught up)", "events": len(seqs),
                     "seconds": f"{caught:.2f}", "events/s": res["events_per_s"],
                     "first event s": f"{t_first or -1:.3f}", "out of order": out_of_order},
                    {"target": "limit: JetStream push consumer, same events", "events": N,
                     "seconds": f"{direct:.2f}", "events/s": res["limit_events_per_s"],
                     "first event s": "", "out of order": ""}],
                   ["target", "events", "seconds", "events/s", "first event s", "out of order"])
    if closed:
        print(f"agora-wsd closed the session during the replay: {closed} "
              f"after {len(seqs)} of {N} events")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
